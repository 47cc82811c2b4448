/** HELLO's camera name is held to the site file's name rule (docs/protocol.md §3.1), over real connections. */
import test from 'ava';
import { encodeFrame, encodeHello, ErrorCode, FrameStatus } from '../src/framing/index.js';
import { FakeRunner, numberFrame } from './helpers/fake-runner.js';
import { rawClient } from './helpers/raw-client.js';
import { startServerWithRunner } from './helpers/server.js';

/** HELLO and one FRAME pipelined behind it, as a camera that does not wait for WELCOME sends them. */
async function helloThenFrame(port: number, cameraName: string) {
  const peer = await rawClient(port);
  peer.socket.end(
    Buffer.concat([
      encodeHello({ version: 1, densityFormat: 0, countOnly: true, window: 2, cameraName }),
      encodeFrame({ seq: 1, captureTimeMs: 0, jpeg: numberFrame(3) }),
    ]),
  );
  await peer.closed;
  return peer.messages;
}

const BAD = [
  'north/1', // MQTT topic separator
  'gate+', // MQTT wildcard
  'hall#2',
  '%Y-%m-%d', // the recorder's file pattern
  'cam"1',
  'door\n[2026-11-25T12:00:00Z] SIGTERM', // a forged log line
  'door\u202e1', // bidi override
  'gate-3 ✓', // a symbol, not a letter
  ' lead', // starts with a space
  'trail ', // ends with one
  '-dash', // starts with punctuation
  'x'.repeat(65), // 65 characters
];

test('a HELLO whose camera name breaks the name rule is ERROR 4 naming the rule, and its pipelined frame is never answered', async (t) => {
  const lines: string[] = [];
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 0), { log: (line) => lines.push(line) });
  for (const name of BAD) {
    const messages = await helloThenFrame(port, name);
    t.is(messages.length, 1, `${JSON.stringify(name)}: one message, then the close`);
    t.like(messages[0], { type: 'error', code: ErrorCode.MalformedMessage }, JSON.stringify(name));
    const reason = messages[0].type === 'error' ? messages[0].reason : '';
    t.regex(
      reason,
      /^camera name ".*"(\.\.\.\(\d+ chars\))? is not 1-64 letters \(any script\), digits, spaces or _ \. - : @, .* \[v1 §3\.1\]$/s,
      JSON.stringify(name),
    );
  }
  // The reason quotes the name escaped: no raw newline or bidi control reaches the client or the log.
  const forged = await helloThenFrame(port, 'door\n[x]\u202e');
  t.true(forged[0]?.type === 'error' && forged[0].reason.startsWith('camera name "door\\n[x]\\u202e" is not'));
  t.false(lines.some((l) => /[\n\u202e]/.test(l.slice(0, -1))));
});

test('names within the rule, in any script, and the v1.0 empty name are welcomed and answered', async (t) => {
  const { port } = await startServerWithRunner(t, new FakeRunner(1, 0));
  for (const name of ['north-1', 'Café Nord:entrée@2', '東口', 'שער', 'a', 'x'.repeat(64), '']) {
    const messages = await helloThenFrame(port, name);
    t.deepEqual(
      messages.map((m) => (m.type === 'result' ? `result ${m.status}` : m.type)),
      ['welcome', `result ${FrameStatus.Ok}`],
      JSON.stringify(name),
    );
  }
});
