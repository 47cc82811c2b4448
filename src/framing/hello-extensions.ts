/**
 * v1.1 HELLO extensions (docs/protocol.md §3.1.1): tag-length-value fields
 * after the camera name, present when HELLO flag bit 1 is set. A v1.0
 * server ignores both the bit and the bytes, so a v1.1 client still talks
 * to it; unknown tags are skipped so later fields stay compatible too.
 */
import { ProtocolError } from './errors.js';

export const HelloExtension = {
  /** The client's secret token (ASCII, 1-255 bytes). */
  Token: 0x01,
  /** v1.2: empty value; the client wants zones (ZONES message, zone block in RESULT). */
  Zones: 0x02,
  /** v1.3: one byte, the input-size policy the client asks for its frames (InputPolicyCode). */
  InputPolicy: 0x03,
  /** v1.4: empty value; the client wants counting lines (LINES message, line block in RESULT). */
  Lines: 0x04,
} as const;

/** v1.3 input-size policy codes (docs/protocol.md §3.1.1): how the server makes network input of this camera's frames. */
export const InputPolicyCode = { fixed: 0, native: 1, tiled: 2 } as const;
export type InputPolicyName = keyof typeof InputPolicyCode;
const POLICY_BY_CODE: readonly InputPolicyName[] = ['fixed', 'native', 'tiled'];

export interface HelloExtensions {
  token?: string;
  wantsZones?: boolean;
  /** v1.3: the policy the client asks for (a site file entry for the camera overrides it). */
  inputPolicy?: InputPolicyName;
  /** v1.4: the client wants LINES and per-line crossings in RESULTs. */
  wantsLines?: boolean;
}

export function encodeHelloExtensions(ext: HelloExtensions): Buffer {
  const fields: Buffer[] = [];
  if (ext.token !== undefined) {
    const token = Buffer.from(ext.token, 'utf8');
    if (token.length === 0 || token.length > 255) throw new RangeError('a token must be 1-255 bytes');
    fields.push(Buffer.from([HelloExtension.Token, token.length]), token);
  }
  if (ext.wantsZones) fields.push(Buffer.from([HelloExtension.Zones, 0]));
  if (ext.inputPolicy !== undefined) fields.push(Buffer.from([HelloExtension.InputPolicy, 1, InputPolicyCode[ext.inputPolicy]]));
  if (ext.wantsLines) fields.push(Buffer.from([HelloExtension.Lines, 0]));
  return Buffer.concat(fields);
}

export function decodeHelloExtensions(body: Buffer, at: number): HelloExtensions {
  const out: HelloExtensions = {};
  while (at < body.length) {
    if (at + 2 > body.length) throw new ProtocolError('v1 §3.1.1', 'HELLO extension field is cut short');
    const tag = body[at];
    const length = body[at + 1];
    const end = at + 2 + length;
    if (end > body.length) throw new ProtocolError('v1 §3.1.1', 'HELLO extension field runs past the end of the message');
    if (tag === HelloExtension.Token) {
      if (out.token !== undefined) throw new ProtocolError('v1 §3.1.1', 'HELLO carries two tokens');
      out.token = body.toString('utf8', at + 2, end);
    } else if (tag === HelloExtension.Zones) {
      // Any value is accepted and ignored, so a later revision may add zone options here.
      out.wantsZones = true;
    } else if (tag === HelloExtension.InputPolicy) {
      if (out.inputPolicy !== undefined) throw new ProtocolError('v1 §3.1.1', 'HELLO carries two input policies');
      const policy = length === 1 ? POLICY_BY_CODE[body[at + 2]] : undefined;
      if (policy === undefined)
        throw new ProtocolError('v1 §3.1.1', `HELLO input policy must be one byte 0-${POLICY_BY_CODE.length - 1} (fixed, native, tiled)`);
      out.inputPolicy = policy;
    } else if (tag === HelloExtension.Lines) {
      // As for zones: any value is accepted and ignored (room for line options).
      out.wantsLines = true;
    }
    at = end;
  }
  return out;
}
