/**
 * MP4 recordings keep each frame's own capture time: answers from a live
 * camera arrive unevenly (bursts a few ms apart, then pauses), and every one
 * must land in the file with its time, strictly after the one before, so
 * players and ffmpeg see no repeated or backward timestamps.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { loadOpenCV } from '../client/opencv.js';
import { rawFramePrefix } from '../client/record/raw-matroska.js';
import { CameraRecorder } from '../client/record/recorder.js';
import { tempDir } from './helpers/server.js';
import { haveFfmpeg } from '../bench/sample-video.js';

const declare = haveFfmpeg() ? test : test.skip;

/** Packet timestamps of the video stream in milliseconds, in file (decoding) order. */
function packetTimesMs(file: string): number[] {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file], {
    timeout: 30_000,
  });
  return probe.stdout
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((s) => Math.round(Number(s) * 1000));
}

declare('MP4: frames keep their capture times at uneven rates: no repeated timestamps, no dts warning', async (t) => {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-mp4-');
  const recorder = new CameraRecorder(cv, dir, 'cam', { format: 'mp4', fps: 25, segmentSeconds: 600, keepSegments: 0, log: (line) => t.log(line) });
  // As answers from a live camera come: bursts 1-7 ms apart, pauses up to 120 ms.
  const gaps = [5, 33, 7, 120, 1, 60, 15, 90, 3, 40];
  const start = Date.parse('2026-12-07T05:00:00.000Z');
  const times: number[] = [];
  let time = start;
  for (let i = 0; i < 60; i++) {
    times.push(time);
    recorder.write(new cv.Mat(48, 64, cv.CV_8UC3, [(i * 4) % 256, 100, 200]), { frame: i, captureTimeMs: time, count: 1, latencyMs: 20, status: 'ok' });
    time += gaps[i % gaps.length];
    // Written as the client would: in bursts, the encoder reading behind.
    if (i % 10 === 9) await sleep(100);
  }
  await recorder.close();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.mp4'));
  t.is(files.length, 1, files.join(' '));
  const file = path.join(dir, files[0]);
  // Presentation times from the first frame (the MP4's edit list may start them later, by the encoder's reordering delay).
  const raw = packetTimesMs(file).sort((a, b) => a - b);
  const pts = raw.map((ms) => ms - raw[0]);
  t.is(pts.length, 60 - recorder.videoFramesDropped);
  t.true(recorder.videoFramesDropped < 60);
  // Every timestamp is a frame's capture time (from the first frame), each one once.
  const expected = new Set(times.map((ms) => ms - start));
  t.deepEqual(
    pts.filter((ms) => !expected.has(ms)),
    [],
    `timestamps that are no frame's capture time: ${pts.join(' ')}`,
  );
  t.deepEqual(
    pts.filter((ms, i) => i > 0 && ms === pts[i - 1]),
    [],
    'repeated timestamps',
  );
  // Decoded with each frame at its own time (1 ms): a file with repeated timestamps warns here. Without these
  // options ffmpeg 5.1 retimes a variable-rate file to its average rate for the null output and warns about
  // frames closer than that, whatever the file holds.
  const decode = spawnSync('ffmpeg', ['-hide_banner', '-v', 'warning', '-i', file, '-enc_time_base', '1:1000', '-fps_mode', 'passthrough', '-f', 'null', '-'], {
    timeout: 60_000,
  });
  t.is(decode.status, 0);
  t.is(decode.stderr.toString(), '', 'no warning from ffmpeg');
});

/** Reads an EBML element header at `at`: its id (hex), the size it declares, where its data starts. */
function readElement(buf: Buffer, at: number): { id: string; size: number; data: number } {
  const idLength = Math.clz32(buf[at]) - 23;
  const id = buf.subarray(at, at + idLength).toString('hex');
  const sizeAt = at + idLength;
  const sizeLength = Math.clz32(buf[sizeAt]) - 23;
  let size = buf[sizeAt] & (0xff >> sizeLength);
  for (let i = 1; i < sizeLength; i++) size = size * 256 + buf[sizeAt + i];
  return { id, size, data: sizeAt + sizeLength };
}

test('raw Matroska: cluster and block sizes are right for small, SD and 4K frames', (t) => {
  for (const pixels of [64 * 48 * 3, 126, 127, 768 * 576 * 3, 3840 * 2160 * 3]) {
    const prefix = rawFramePrefix(123_456, pixels);
    const cluster = readElement(prefix, 0);
    t.is(cluster.id, '1f43b675');
    t.is(cluster.size, prefix.length - cluster.data + pixels, `cluster of a ${pixels}-byte frame`);
    const timestamp = readElement(prefix, cluster.data);
    t.is(timestamp.id, 'e7');
    t.is(prefix.readUIntBE(timestamp.data, timestamp.size), 123_456);
    const block = readElement(prefix, timestamp.data + timestamp.size);
    t.is(block.id, 'a3');
    // Track 1, relative time 0, key frame, then the pixels.
    t.is(block.size, 4 + pixels);
    t.deepEqual([...prefix.subarray(block.data)], [0x81, 0, 0, 0x80]);
  }
});
