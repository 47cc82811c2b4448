/**
 * The zone drawing tool's state, without any window: corners are added one
 * at a time (in frame pixels), a zone is closed once it has three corners
 * and does not cross itself (the server refuses such polygons), undo takes
 * back the last corner (or, with none, the last zone), and finishing closes
 * a zone in progress when it can.
 */

export type Corner = [number, number];

export interface DraftZone {
  name: string;
  polygon: Corner[];
}

export interface DraftInput {
  kind: 'corner' | 'close' | 'undo' | 'finish';
  /** Frame pixels, for 'corner'. */
  at?: Corner;
}

/** What the last step did, for the window's status line. */
export type DraftNote = { ok: true; text: string } | { ok: false; text: string };

export class ZoneDraft {
  readonly zones: DraftZone[] = [];
  current: Corner[] = [];
  finished = false;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly namePrefix = 'zone-',
  ) {}

  /** The name the zone in progress will get. */
  get nextName(): string {
    let n = this.zones.length + 1;
    while (this.zones.some((z) => z.name === `${this.namePrefix}${n}`)) n++;
    return `${this.namePrefix}${n}`;
  }

  apply(input: DraftInput): DraftNote {
    if (this.finished) return { ok: false, text: 'already finished' };
    switch (input.kind) {
      case 'corner': {
        const [x, y] = input.at!;
        // Clicks in the letterbox or past the edge land on the edge: zones may touch the frame border.
        const corner: Corner = [clamp(Math.round(x), 0, this.width), clamp(Math.round(y), 0, this.height)];
        const last = this.current[this.current.length - 1];
        if (last && last[0] === corner[0] && last[1] === corner[1]) return { ok: false, text: 'same corner twice; ignored' };
        this.current.push(corner);
        return { ok: true, text: `${this.nextName}: corner ${this.current.length} at ${corner[0]},${corner[1]}` };
      }
      case 'close':
        return this.close();
      case 'undo':
        if (this.current.length > 0) {
          this.current.pop();
          return { ok: true, text: `${this.nextName}: ${this.current.length} corners` };
        }
        if (this.zones.length > 0) {
          const zone = this.zones.pop()!;
          this.current = zone.polygon;
          return { ok: true, text: `${zone.name} reopened` };
        }
        return { ok: false, text: 'nothing to undo' };
      case 'finish': {
        let note: DraftNote = { ok: true, text: 'done' };
        if (this.current.length >= 3) note = this.close();
        else if (this.current.length > 0) note = { ok: false, text: `the last zone had only ${this.current.length} corners and was left out` };
        if (!note.ok && this.current.length >= 3) note = { ok: false, text: `the last zone was left out: ${note.text}` };
        this.current = [];
        this.finished = true;
        return note;
      }
    }
  }

  private close(): DraftNote {
    if (this.current.length < 3) return { ok: false, text: `a zone needs at least 3 corners (has ${this.current.length})` };
    if (crossesItself(this.current)) return { ok: false, text: 'the outline crosses itself; undo a corner (Backspace)' };
    if (Math.abs(polygonArea(this.current)) < 1) return { ok: false, text: 'the corners are on one line (no area); add a corner off it' };
    const zone = { name: this.nextName, polygon: this.current };
    this.zones.push(zone);
    this.current = [];
    return { ok: true, text: `${zone.name} closed (${zone.polygon.length} corners)` };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Signed area (shoelace formula), in square pixels. */
export function polygonArea(polygon: readonly Corner[]): number {
  let twice = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [x1, y1] = polygon[i];
    const [x2, y2] = polygon[(i + 1) % polygon.length];
    twice += x1 * y2 - x2 * y1;
  }
  return twice / 2;
}

/** Whether two edges that share no corner intersect (a closed outline that is not simple). */
export function crossesItself(polygon: readonly Corner[]): boolean {
  const n = polygon.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a corner.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsIntersect(polygon[i], polygon[(i + 1) % n], polygon[j], polygon[(j + 1) % n])) return true;
    }
  }
  return false;
}

function segmentsIntersect(a: Corner, b: Corner, c: Corner, d: Corner): boolean {
  const cross = (o: Corner, p: Corner, q: Corner): number => (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]);
  const onSegment = (o: Corner, p: Corner, q: Corner): boolean =>
    Math.min(o[0], p[0]) <= q[0] && q[0] <= Math.max(o[0], p[0]) && Math.min(o[1], p[1]) <= q[1] && q[1] <= Math.max(o[1], p[1]);
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (d1 === 0 && onSegment(c, d, a)) || (d2 === 0 && onSegment(c, d, b)) || (d3 === 0 && onSegment(a, b, c)) || (d4 === 0 && onSegment(a, b, d));
}
