/**
 * A scripted protocol v1.2 server on 127.0.0.1, built from src/framing alone:
 * it answers every frame ok (count only, no density map) and, to a client
 * that asked for zones, sends ZONES after WELCOME (and again when the script
 * says so) and a zone block in every RESULT. Lets the client's zone drawing
 * and CSV be tested without a model.
 */
import net from 'node:net';
import {
  DensityFormat,
  FrameStatus,
  PROTOCOL_VERSION,
  ServerSideParser,
  encodeResult,
  encodeWelcome,
  encodeLines,
  encodeZones,
  type LineCrossings,
  type LinesMessage,
  type ZoneReading,
  type ZonesMessage,
} from '../../src/framing/index.js';

export interface ZoneScript {
  /** Zones in force from frame `from` (seq) on; the first entry must have from 0. */
  zones: Array<{ from: number; message: Omit<ZonesMessage, 'type'> }>;
  /** Readings for frame `seq` (under the zones in force). */
  readings(seq: number): ZoneReading[];
  count?(seq: number): number;
  /** v1.4: lines sent after ZONES to a client that asked, and each RESULT's line block. */
  lines?: { message: Omit<LinesMessage, 'type'>; crossings(seq: number): LineCrossings[] };
}

export interface ZoneServer {
  port: number;
  /** Each HELLO received, in order: camera name and whether it asked for zones. */
  hellos: Array<{ camera: string; wantsZones: boolean; wantsLines: boolean }>;
  close(): Promise<void>;
}

export async function startZoneServer(script: ZoneScript): Promise<ZoneServer> {
  const hellos: ZoneServer['hellos'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const parser = new ServerSideParser({ maxFrameBytes: 16 << 20 });
    let wantsZones = false;
    let wantsLines = false;
    socket.on('data', (chunk: Buffer) => {
      for (const m of parser.push(chunk)) {
        if (m.type === 'hello') {
          wantsZones = m.wantsZones === true;
          wantsLines = m.wantsLines === true;
          hellos.push({ camera: m.cameraName, wantsZones, wantsLines });
          socket.write(
            encodeWelcome({
              version: PROTOCOL_VERSION,
              densityFormat: DensityFormat.None,
              countOnly: true,
              window: 2,
              maxFrameBytes: 16 << 20,
              inputWidth: 64,
              inputHeight: 48,
              outputStride: 8,
              modelName: 'zone-script',
              provider: 'none',
            }),
          );
          if (wantsZones) socket.write(encodeZones(script.zones[0].message));
          if (wantsLines) socket.write(encodeLines(script.lines?.message ?? { camera: m.cameraName, lines: [] }));
        } else if (m.type === 'frame') {
          // A site reload: the new ZONES precedes the first RESULT it applies to.
          const reload = script.zones.find((z) => z.from === m.seq && z.from > 0);
          if (wantsZones && reload) socket.write(encodeZones(reload.message));
          socket.write(
            encodeResult({
              seq: m.seq,
              status: FrameStatus.Ok,
              captureTimeMs: m.captureTimeMs,
              count: script.count?.(m.seq) ?? 1,
              timings: { queueUs: 0, decodeUs: 0, inferUs: 0, serverUs: 0 },
              densityFormat: DensityFormat.None,
              zones: wantsZones ? script.readings(m.seq) : undefined,
              lines: wantsLines ? (script.lines?.crossings(m.seq) ?? []) : undefined,
            }),
          );
        } else {
          socket.end();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    hellos,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
