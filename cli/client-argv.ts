/** The `client` command's parsed flags: what client-setup.ts and client-run.ts turn into the client's options. */
import type { DensityFormatName } from '../src/framing/index.js';
import type { ClientSecurityArgv } from './client-security.js';

export interface ClientArgv extends Partial<ClientSecurityArgv> {
  server?: string;
  source: string[];
  config?: string;
  display: boolean;
  out?: string;
  record?: 'avi' | 'mp4';
  'segment-seconds'?: number;
  'keep-segments'?: number;
  'stall-timeout'?: number;
  'jpeg-quality': number;
  'max-width': number;
  window: number;
  fps: number;
  'max-frames': number;
  live: boolean;
  'density-format': DensityFormatName;
  'dry-run'?: boolean;
  zones: boolean;
  lines: boolean;
}
