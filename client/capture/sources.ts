/**
 * What a source text names, and the in-process sources. Live cameras
 * (camera indexes, stream URLs) are read by a capture process each
 * (live-capture.ts); video files and image folders cannot hang, so they are
 * read here, in the client process, with OpenCV. Live sources run in real
 * time and the client may skip their frames; recorded ones are sent in full,
 * in order.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StreamInput } from './stream-input.js';
import type { RawFrame } from './frame.js';
import { errorText, type OpenCV } from '../opencv.js';

export type SourceKind = 'camera' | 'stream' | 'file' | 'folder';

export interface SourceSpec {
  /** As given on the command line; names the source in messages. */
  text: string;
  kind: SourceKind;
}

/** A file or folder read in the client process. */
export interface FrameSource extends StreamInput {
  readonly spec: SourceSpec;
  /** Frames in the file or folder (undefined when played live or unknown). */
  readonly totalFrames: number | undefined;
  read(): RawFrame | undefined;
}

/** Camera indexes and stream URLs: read by a capture process, reopened when they fail. */
export function isLiveCamera(spec: SourceSpec): boolean {
  return spec.kind === 'camera' || spec.kind === 'stream';
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm']);

export function parseSource(text: string): SourceSpec {
  if (/^\d+$/.test(text)) return { text, kind: 'camera' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { text, kind: 'stream' };
  let isDir = false;
  try {
    isDir = fs.statSync(text).isDirectory();
  } catch {
    // Missing paths fall through to VideoCapture, which names the failure.
  }
  return { text, kind: isDir ? 'folder' : 'file' };
}

/** Opens a file or folder; throws an Error naming it when it cannot be read. */
export function openSource(cv: OpenCV, spec: SourceSpec, options: { forceLive?: boolean } = {}): FrameSource {
  try {
    const source = spec.kind === 'folder' ? new FolderSource(cv, spec) : new CaptureSource(cv, spec, options.forceLive ?? false);
    return source;
  } catch (err) {
    throw new Error(`cannot open source "${spec.text}": ${errorText(err)}`);
  }
}

class CaptureSource implements FrameSource {
  readonly live: boolean;
  readonly totalFrames: number | undefined;
  readonly fps: number;
  private capture: InstanceType<OpenCV['VideoCapture']> | undefined;
  /** The first frame, read while opening to prove the source works. */
  private first: RawFrame | undefined;

  constructor(
    cv: OpenCV,
    readonly spec: SourceSpec,
    forceLive: boolean,
  ) {
    if (spec.kind === 'file' && !fs.existsSync(spec.text)) throw new Error('no such file');
    this.capture = new cv.VideoCapture(spec.kind === 'camera' ? Number(spec.text) : spec.text);
    const first = this.capture.read();
    if (first.empty) {
      this.capture.release();
      throw new Error('opened but no frame could be read (not a video, or unsupported codec)');
    }
    this.first = { image: first };
    this.live = forceLive;
    const count = this.capture.get(cv.CAP_PROP_FRAME_COUNT);
    this.totalFrames = !this.live && count > 0 ? Math.round(count) : undefined;
    const fps = this.capture.get(cv.CAP_PROP_FPS);
    this.fps = Number.isFinite(fps) && fps > 0 && fps < 1000 ? fps : 0;
  }

  get text(): string {
    return this.spec.text;
  }

  read(): RawFrame | undefined {
    if (this.first) {
      const frame = this.first;
      this.first = undefined;
      return frame;
    }
    if (!this.capture) return undefined;
    const image = this.capture.read();
    return image.empty ? undefined : { image };
  }

  close(): void {
    this.capture?.release();
    this.capture = undefined;
  }
}

class FolderSource implements FrameSource {
  readonly live = false;
  readonly fps = 0;
  readonly totalFrames: number;
  private readonly files: string[];
  private next = 0;

  constructor(
    private readonly cv: OpenCV,
    readonly spec: SourceSpec,
  ) {
    this.files = fs
      .readdirSync(spec.text)
      .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .map((name) => path.join(spec.text, name));
    if (this.files.length === 0) throw new Error(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) in the folder`);
    this.totalFrames = this.files.length;
  }

  get text(): string {
    return this.spec.text;
  }

  read(): RawFrame | undefined {
    const file = this.files[this.next++];
    if (file === undefined) return undefined;
    try {
      return { image: this.cv.imread(file, this.cv.IMREAD_COLOR) };
    } catch (err) {
      throw new Error(`cannot read image ${file}: ${errorText(err)}`);
    }
  }

  close(): void {
    this.next = this.files.length;
  }
}
