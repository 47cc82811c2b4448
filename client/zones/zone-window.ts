/**
 * The window of `crowdline zones draw`: a Python OpenCV process
 * (client/python/zone_window.py) that shows images and reports clicks and
 * keys, because the Node OpenCV binding cannot receive mouse events. Images
 * go over as files in a private temporary folder; events come back as JSON
 * lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { PACKAGE_ROOT } from '../../src/app/paths.js';
import type { Mat, OpenCV } from '../opencv.js';

export type WindowEvent = { kind: 'click' | 'rclick'; x: number; y: number } | { kind: 'key'; key: number } | { kind: 'ready' | 'closed' };

/** What the drawing session needs from a window (a scripted one in tests). */
export interface ZoneWindow {
  show(image: Mat): void;
  /** The next click, key or close; 'closed' once the window is gone. */
  next(): Promise<WindowEvent>;
  close(): void;
}

export const RELAY_SCRIPT = path.join(PACKAGE_ROOT, 'client', 'python', 'zone_window.py');

/** Debian's interpreter has python3-opencv (scripts/setup.sh); CROWDLINE_PYTHON overrides. */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.CROWDLINE_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export class PythonZoneWindow implements ZoneWindow {
  /** Why the window process failed, if it did (e.g. python3-opencv missing). */
  failure: string | undefined;
  private readonly child: ChildProcess;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crowdline-zones-'));
  private readonly queued: WindowEvent[] = [];
  private waiting: ((e: WindowEvent) => void) | undefined;
  private shownCount = 0;
  private stderr = '';
  private gone = false;

  constructor(
    private readonly cv: OpenCV,
    title: string,
  ) {
    this.child = spawn(pythonCommand(), [RELAY_SCRIPT, title], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    this.child.stdin!.on('error', () => {}); // the relay may already be gone; 'exit' reports it
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.on('error', (err) => this.end(`cannot run ${pythonCommand()}: ${err.message}`));
    this.child.on('exit', (code) => this.end(code === 0 ? undefined : this.stderr.trim().split('\n').pop() || `the window process exited with ${code}`));
  }

  show(image: Mat): void {
    if (this.gone) return;
    // A new file per image: the relay may still be reading the previous one.
    const file = path.join(this.dir, `view-${this.shownCount++}.bmp`);
    this.cv.imwrite(file, image);
    this.child.stdin!.write(`show ${file}\n`);
  }

  next(): Promise<WindowEvent> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.gone) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    if (!this.gone) this.child.stdin!.end('quit\n');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private onLine(line: string): void {
    let event: WindowEvent | undefined;
    try {
      const raw = JSON.parse(line) as { event?: string; x?: number; y?: number; key?: number };
      if ((raw.event === 'click' || raw.event === 'rclick') && typeof raw.x === 'number' && typeof raw.y === 'number')
        event = { kind: raw.event, x: raw.x, y: raw.y };
      else if (raw.event === 'key' && typeof raw.key === 'number') event = { kind: 'key', key: raw.key };
      else if (raw.event === 'closed' || raw.event === 'ready') event = { kind: raw.event };
    } catch {
      return; // not ours (a library printing to stdout)
    }
    if (event) this.deliver(event);
  }

  private end(failure: string | undefined): void {
    if (this.gone) return;
    this.gone = true;
    this.failure = failure;
    this.deliver({ kind: 'closed' });
  }

  private deliver(event: WindowEvent): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(event);
    else this.queued.push(event);
  }
}
