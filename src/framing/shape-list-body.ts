/**
 * What the ZONES (v1.2 §3.7) and LINES (v1.4 §3.8) bodies share: UTF-8 JSON
 * of a camera, an optional reference size and a bounded list of shapes, each
 * with an id equal to its index, a name and a bounded list of [x, y] points.
 * A client trusts these bytes no more than any others from the network:
 * every field is checked, and each error names the rule it breaks.
 */
import { ProtocolError } from './errors.js';

export interface ShapeListRules {
  /** The protocol section, for the error (e.g. 'v1.2 §3.7'). */
  rule: string;
  /** The message's name in errors: 'ZONES', 'LINES'. */
  message: string;
  /** The list's key in the JSON: 'zones', 'lines'. */
  key: string;
  maxItems: number;
}

export interface ShapeListBody<T> {
  camera: string;
  items: T[];
  size?: { width: number; height: number };
}

/** Parses the body; `item` checks one entry (its index is its required id). */
export function decodeShapeList<T>(body: Buffer, rules: ShapeListRules, item: (entry: ShapeEntry, index: number) => T): ShapeListBody<T> {
  const { rule, message, key, maxItems } = rules;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProtocolError(rule, `${message} body is not JSON`);
  }
  const root = record(json, `${message} body`, rule);
  const camera = root.camera;
  if (typeof camera !== 'string') throw new ProtocolError(rule, `${message} "camera" must be a string`);
  const list = root[key];
  if (!Array.isArray(list) || list.length > maxItems) throw new ProtocolError(rule, `${message} "${key}" must be a list of at most ${maxItems}`);
  const items = list.map((value: unknown, index) => {
    const what = `${message} ${key.slice(0, -1)} ${index}`;
    const fields = record(value, what, rule);
    if (fields.id !== index) throw new ProtocolError(rule, `${what} must have "id" ${index}`);
    if (typeof fields.name !== 'string') throw new ProtocolError(rule, `${what} "name" must be a string`);
    return item(new ShapeEntry(fields, what, rule, fields.name), index);
  });
  const out: ShapeListBody<T> = { camera, items };
  if (root.width !== undefined || root.height !== undefined) {
    out.size = { width: positive(root.width, `${message} "width"`, rule), height: positive(root.height, `${message} "height"`, rule) };
  }
  return out;
}

/** One entry of the list, with checked readers for its fields. */
export class ShapeEntry {
  constructor(
    readonly fields: Record<string, unknown>,
    /** How errors name it: 'ZONES zone 3'. */
    readonly what: string,
    private readonly rule: string,
    readonly name: string,
  ) {}

  /** A list of min-max [x, y] points of finite numbers; `noun` names one in errors ('corner', 'point'). */
  points(key: string, min: number, max: number, noun: string): Array<[number, number]> {
    const raw = this.fields[key];
    if (!Array.isArray(raw) || raw.length < min || raw.length > max) {
      throw new ProtocolError(this.rule, `${this.what} "${key}" must be a list of ${min}-${max} ${noun}s`);
    }
    return raw.map((point): [number, number] => {
      if (!Array.isArray(point) || point.length !== 2 || !point.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new ProtocolError(this.rule, `${this.what} has a ${noun} that is not [x, y]`);
      }
      return [point[0] as number, point[1] as number];
    });
  }

  /** An optional positive number. */
  positive(key: string): number | undefined {
    const value = this.fields[key];
    return value === undefined ? undefined : positive(value, `${this.what} "${key}"`, this.rule);
  }

  fail(problem: string): never {
    throw new ProtocolError(this.rule, `${this.what} ${problem}`);
  }
}

function record(value: unknown, what: string, rule: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(rule, `${what} must be an object`);
  return value as Record<string, unknown>;
}

function positive(value: unknown, what: string, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ProtocolError(rule, `${what} must be a positive number`);
  return value;
}
