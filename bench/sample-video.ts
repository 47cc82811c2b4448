/**
 * ffmpeg on the sample video for the bench and the tests (which may import
 * bench/, not the other way round): cut frames out as JPEG files, or run any
 * other ffmpeg job, quietly, failing with ffmpeg's own words.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SAMPLE_VIDEO } from '../src/app/paths.js';

/** Runs `ffmpeg -hide_banner -loglevel error -y ARGS`; throws "`what`: <ffmpeg's stderr>" if it fails or runs past the timeout. */
export function runFfmpeg(args: readonly string[], what: string, timeoutMs = 120_000): void {
  const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: timeoutMs });
  if (made.status !== 0) throw new Error(`${what}: ${made.error?.message ?? made.stderr?.toString() ?? `ffmpeg exited ${made.status}`}`);
}

export function haveFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

export interface SampleCut {
  /** How many JPEGs. */
  count: number;
  /** Every n-th frame of the video (default 1: consecutive frames). */
  every?: number;
  /** WxH to scale to (default: the video's own 768x576). */
  size?: string;
  /** ffmpeg's JPEG quality, 2 (best) to 31. */
  quality: number;
}

/** Cuts frames of the sample video into `dir` as 0001.jpg, 0002.jpg ... and returns them, in order. */
export function cutSampleVideo(dir: string, cut: SampleCut, timeoutMs = 120_000): Buffer[] {
  fs.mkdirSync(dir, { recursive: true });
  const every = cut.every ?? 1;
  const filters = [...(every > 1 ? [`select=not(mod(n\\,${every}))`] : []), ...(cut.size ? [`scale=${cut.size.replace('x', ':')}`] : [])];
  runFfmpeg(
    [
      '-i',
      SAMPLE_VIDEO,
      ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
      // Only the selected frames, not the gaps between them filled with copies.
      ...(every > 1 ? ['-vsync', 'vfr'] : []),
      '-frames:v',
      String(cut.count),
      '-q:v',
      String(cut.quality),
      path.join(dir, '%04d.jpg'),
    ],
    'ffmpeg could not cut the sample video',
    timeoutMs,
  );
  return jpegsIn(dir);
}

/** The .jpg files of `dir`, read, in name order. */
export function jpegsIn(dir: string): Buffer[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f)));
}
