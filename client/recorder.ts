/**
 * Headless output for one camera: a video of the overlaid frames (Motion-JPEG
 * AVI) and a CSV with one row per frame sent, in frame order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MjpegAviWriter } from './avi-writer.js';
import type { Mat, OpenCV } from './opencv.js';

export const CSV_HEADER = 'frame,capture_time_ms,count,latency_ms,status';

export interface CsvRow {
  frame: number;
  captureTimeMs: number;
  count: number;
  latencyMs: number;
  status: string;
}

export class CameraRecorder {
  readonly videoPath: string;
  readonly csvPath: string;
  private writer: MjpegAviWriter | undefined;
  private size: { width: number; height: number } | undefined;
  private readonly csv: number;
  framesWritten = 0;

  constructor(
    private readonly cv: OpenCV,
    dir: string,
    camera: string,
    private readonly fps: number,
    private readonly jpegQuality = 85,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.videoPath = path.join(dir, `${camera}.avi`);
    this.csvPath = path.join(dir, `${camera}.csv`);
    this.csv = fs.openSync(this.csvPath, 'w');
    fs.writeSync(this.csv, CSV_HEADER + '\n');
  }

  write(image: Mat, row: CsvRow): void {
    const { cv } = this;
    if (!this.writer) {
      this.size = { width: image.cols, height: image.rows };
      this.writer = new MjpegAviWriter(this.videoPath, image.cols, image.rows, this.fps);
    }
    // The video's size is fixed by the first frame; a source that changes size is fitted to it.
    const fitted = image.cols === this.size!.width && image.rows === this.size!.height ? image : image.resize(this.size!.height, this.size!.width);
    this.writer.write(cv.imencode('.jpg', fitted, [cv.IMWRITE_JPEG_QUALITY, this.jpegQuality]));
    this.framesWritten++;
    const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '');
    fs.writeSync(this.csv, `${row.frame},${row.captureTimeMs},${num(row.count, 3)},${num(row.latencyMs, 0)},${row.status}\n`);
  }

  /** Paths written (the video only once it has a frame). */
  get outputs(): string[] {
    return [...(this.writer?.paths ?? []), this.csvPath];
  }

  close(): void {
    this.writer?.close();
    fs.closeSync(this.csv);
  }
}
