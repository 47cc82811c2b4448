/** A private X server for window tests: Xvfb on a display number it picks itself (-displayfd), and screenshots of it. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export const XVFB_TOOLS = ['/usr/bin/Xvfb', '/usr/bin/xwd', '/usr/bin/convert'];
export const SCREEN = { width: 1280, height: 1024 };

/** The first of XVFB_TOOLS that is missing, if any (tests that need a screen skip then). */
export function missingXvfbTool(): string | undefined {
  return XVFB_TOOLS.find((tool) => !fs.existsSync(tool));
}

/** Xvfb on a display number it picks itself, so parallel runs never collide. */
export function startXvfb(): Promise<{ child: ChildProcess; display: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', `${SCREEN.width}x${SCREEN.height}x24`, '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    let text = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start')), 15_000);
    child.stdio[3]!.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        const display = `:${text.trim()}`;
        // Belt and braces: wait for the server's socket before any client connects.
        const socket = `/tmp/.X11-unix/X${text.trim()}`;
        const waitForSocket = (tries: number): void => {
          if (fs.existsSync(socket) || tries === 0) resolve({ child, display });
          else setTimeout(() => waitForSocket(tries - 1), 50);
        };
        waitForSocket(100);
      }
    });
    child.on('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
}

/**
 * A PNG of the whole screen. Asynchronous on purpose: the tests' server runs in
 * the same process, and a synchronous xwd | convert on a loaded machine kept
 * its event loop from answering the client's HELLO within the client's 5 s.
 */
export function screenshot(display: string, file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `xwd -root -display ${display} | /usr/bin/convert xwd:- ${file}`], { stdio: 'ignore', timeout: 15_000 });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0 && fs.existsSync(file)));
  });
}
