/**
 * Headless output for one camera: a video of the overlaid frames (Motion-JPEG
 * AVI, or H.264 MP4 segments) and a CSV with one row per frame sent, in frame
 * order, each row naming the camera and its capture time in UTC.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MjpegAviWriter } from './avi-writer.js';
import type { RecordFormat } from '../config/config-file.js';
import { Mp4SegmentWriter } from './mp4-writer.js';
import type { Mat, OpenCV } from '../opencv.js';
import { ZoneCsvWriter, type ZoneRows } from './zone-csv.js';

export const CSV_HEADER = 'camera,frame,time_utc,capture_time_ms,count,latency_ms,status';

export interface CsvRow {
  frame: number;
  captureTimeMs: number;
  count: number;
  latencyMs: number;
  status: string;
}

export interface RecorderOptions {
  format: RecordFormat;
  /** Frame rate written into AVI headers. */
  fps: number;
  segmentSeconds: number;
  keepSegments: number;
  log: (line: string) => void;
}

/** Segment lists longer than this are summarised in the outputs. */
const LIST_AT_MOST = 4;

export class CameraRecorder {
  readonly csvPath: string;
  /** v1.2 zone readings, `NAME.zones.csv`, written only once the server sends some. */
  private readonly zoneCsv: ZoneCsvWriter;
  private readonly avi: { writer?: MjpegAviWriter; path: string } | undefined;
  private readonly mp4: Mp4SegmentWriter | undefined;
  private size: { width: number; height: number } | undefined;
  private readonly csv: number;
  framesWritten = 0;

  constructor(
    private readonly cv: OpenCV,
    private readonly dir: string,
    private readonly camera: string,
    private readonly options: RecorderOptions,
    private readonly jpegQuality = 85,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.csvPath = path.join(dir, `${camera}.csv`);
    this.csv = fs.openSync(this.csvPath, 'w');
    fs.writeSync(this.csv, CSV_HEADER + '\n');
    this.zoneCsv = new ZoneCsvWriter(path.join(dir, `${camera}.zones.csv`), camera);
    if (options.format === 'mp4') {
      this.mp4 = new Mp4SegmentWriter(dir, camera, { segmentSeconds: options.segmentSeconds, keepSegments: options.keepSegments, log: options.log });
    } else {
      this.avi = { path: path.join(dir, `${camera}.avi`) };
    }
  }

  /** One answered frame: its picture (already overlaid), its CSV row and, when the server sent them, its zone readings. */
  write(image: Mat, row: CsvRow, zones?: ZoneRows): void {
    this.size ??= { width: image.cols, height: image.rows };
    // The video's size is fixed by the first frame; a source that changes size is fitted to it.
    const fitted = image.cols === this.size.width && image.rows === this.size.height ? image : image.resize(this.size.height, this.size.width);
    if (this.mp4) this.mp4.write(fitted, row.captureTimeMs);
    else {
      this.avi!.writer ??= new MjpegAviWriter(this.avi!.path, this.size.width, this.size.height, this.options.fps);
      this.avi!.writer.write(this.cv.imencode('.jpg', fitted, [this.cv.IMWRITE_JPEG_QUALITY, this.jpegQuality]));
    }
    this.framesWritten++;
    const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '');
    const time = new Date(row.captureTimeMs).toISOString();
    fs.writeSync(this.csv, `${this.camera},${row.frame},${time},${row.captureTimeMs},${num(row.count, 3)},${num(row.latencyMs, 0)},${row.status}\n`);
    if (zones) this.zoneCsv.write(zones);
  }

  /** Frames left out of the video because its encoder fell behind (each still has its CSV row). */
  get videoFramesDropped(): number {
    return this.mp4?.framesDropped ?? 0;
  }

  /** Paths written (videos only once they have a frame); long segment lists are summarised. */
  get outputs(): string[] {
    const videos = this.mp4 ? this.mp4.paths : (this.avi?.writer?.paths ?? []);
    const csvs = this.zoneCsv.written ? [this.csvPath, this.zoneCsv.path] : [this.csvPath];
    if (videos.length <= LIST_AT_MOST) return [...videos, ...csvs];
    const pattern = path.join(this.dir, `${this.camera}-*.mp4`);
    return [`${pattern} (${videos.length} segments, ${path.basename(videos[0])} .. ${path.basename(videos[videos.length - 1])})`, ...csvs];
  }

  /** Finalises the video (AVI index, or the last MP4 segment) and the CSV. */
  async close(): Promise<void> {
    this.avi?.writer?.close();
    await this.mp4?.close();
    fs.closeSync(this.csv);
    this.zoneCsv.close();
  }
}
