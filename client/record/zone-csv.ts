/**
 * Zone readings as a long-format CSV (`NAME.zones.csv`): one row per zone per
 * answered frame. Long format, not a column per zone, so the file stays valid
 * when the server's zones change during a run (a site reload adds, removes or
 * renames zones): each row names its zone. `frame` joins it to `NAME.csv`.
 */
import fs from 'node:fs';
import { zoneAlertStateName, type ZoneReading, type ZonesMessage } from '../../src/framing/index.js';

export const ZONES_CSV_HEADER = 'camera,frame,time_utc,capture_time_ms,zone_id,zone,people,smoothed,capacity,occupancy,state';

export interface ZoneRows {
  frame: number;
  captureTimeMs: number;
  zones: ZonesMessage;
  readings: readonly ZoneReading[];
}

/** RFC 4180 quoting for the one free-text field (zone names come from the site file). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The CSV lines (no header) for one frame's readings: at most one per zone of
 * the ZONES message (a reading naming no zone, or a zone already given, is
 * left out), so a server cannot make the file grow faster than its zones.
 */
export function zoneCsvLines(camera: string, rows: ZoneRows): string[] {
  const time = new Date(rows.captureTimeMs).toISOString();
  const num = (v: number | undefined, digits: number): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '');
  const lines: string[] = [];
  const seen = new Set<number>();
  for (const r of rows.readings) {
    const zone = rows.zones.zones[r.id];
    if (!zone || seen.has(r.id)) continue;
    seen.add(r.id);
    lines.push(
      [
        camera,
        rows.frame,
        time,
        rows.captureTimeMs,
        r.id,
        csvField(zone.name),
        num(r.people, 3),
        num(r.smoothed, 3),
        zone.capacity === undefined ? '' : String(zone.capacity),
        num(r.occupancy, 4),
        zoneAlertStateName(r.state),
      ].join(','),
    );
  }
  return lines;
}

/** Opened on the first readings, so a run against a server without zones leaves no empty file. */
export class ZoneCsvWriter {
  private fd: number | undefined;
  /** The file exists (it was opened at some point; it stays true after close). */
  written = false;

  constructor(
    readonly path: string,
    private readonly camera: string,
  ) {}

  write(rows: ZoneRows): void {
    const lines = zoneCsvLines(this.camera, rows);
    if (lines.length === 0) return;
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.path, 'w');
      this.written = true;
      fs.writeSync(this.fd, ZONES_CSV_HEADER + '\n');
    }
    fs.writeSync(this.fd, lines.join('\n') + '\n');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
