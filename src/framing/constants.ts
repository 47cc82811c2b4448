/**
 * Numbers fixed by docs/protocol.md (crowdline protocol v1). Section marks
 * (§) point at the rule in that document.
 */

/** §2: every v1 message starts with this many header bytes. */
export const HEADER_BYTES = 8;

/** §3.1: first four bytes of a HELLO body. ASCII "CRWD". */
export const MAGIC = Buffer.from('CRWD', 'ascii');

export const PROTOCOL_VERSION = 1;

/** §2: message type codes (header byte 0). None is an ASCII digit (§1). */
export const MessageType = {
  Hello: 0x01,
  Welcome: 0x02,
  Frame: 0x03,
  Result: 0x04,
  Error: 0x05,
  Bye: 0x06,
  /** v1.2 (§3.7): the camera's zones, sent only to clients that asked for them. */
  Zones: 0x07,
  /** v1.4 (§3.8): the camera's counting lines, sent only to clients that asked for them. */
  Lines: 0x08,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** §3.4: RESULT status byte. */
export const FrameStatus = {
  Ok: 0,
  FrameError: 1,
  Dropped: 2,
  ServerError: 3,
} as const;
export type FrameStatusCode = (typeof FrameStatus)[keyof typeof FrameStatus];

export function frameStatusName(status: FrameStatusCode): 'ok' | 'frame-error' | 'dropped' | 'server-error' {
  switch (status) {
    case FrameStatus.Ok:
      return 'ok';
    case FrameStatus.FrameError:
      return 'frame-error';
    case FrameStatus.Dropped:
      return 'dropped';
    case FrameStatus.ServerError:
      return 'server-error';
  }
}

/** §3.1 / §3.4: how the density map travels. */
export const DensityFormat = {
  Float32: 0,
  Float16: 1,
  Uint8Scaled: 2,
  None: 255,
} as const;
export type DensityFormatCode = (typeof DensityFormat)[keyof typeof DensityFormat];

export const DENSITY_FORMAT_NAMES = {
  f32: DensityFormat.Float32,
  f16: DensityFormat.Float16,
  u8: DensityFormat.Uint8Scaled,
  none: DensityFormat.None,
} as const;
export type DensityFormatName = keyof typeof DENSITY_FORMAT_NAMES;

/** §3.5: ERROR codes. The server closes the connection after sending one. */
export const ErrorCode = {
  BadMagic: 1,
  UnsupportedVersion: 2,
  FrameTooLarge: 3,
  MalformedMessage: 4,
  HandshakeTimeout: 5,
  IdleTimeout: 6,
  ShuttingDown: 7,
  ServerFull: 8,
  SequenceOrder: 9,
  UnexpectedMessage: 10,
  /** v1.1 (§3.1.1): missing or wrong token / client certificate, or a camera the identity may not use. */
  Unauthorized: 11,
  /** v1.1: this port takes crowdline v1 only inside TLS (§1). */
  TlsRequired: 12,
  /** v1.1: a message's first byte arrived but the rest did not, in time (--frame-timeout-ms). */
  MessageTimeout: 13,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** §3.1 HELLO fixed part, §3.2 WELCOME, §3.3 FRAME, §3.4 RESULT fixed parts. */
export const HELLO_FIXED_BYTES = 11;
export const WELCOME_FIXED_BYTES = 16;
export const FRAME_FIXED_BYTES = 12;
export const RESULT_FIXED_BYTES = 44;

/** v1.2 (§3.4.2): RESULT flag bits (the u16 at body offset 6, reserved before v1.2). */
export const ResultFlags = {
  /** A zone block follows the fixed fields, before the payload. */
  Zones: 0x0001,
  /** v1.4 (§3.4.3): a line block follows the zone block (or the fixed fields when there is none), before the payload. */
  Lines: 0x0002,
} as const;

/** v1.2 (§3.4.2): zone block head (u16 count, u16 reserved) and one entry per zone. */
export const ZONE_BLOCK_HEAD_BYTES = 4;
export const ZONE_ENTRY_BYTES = 16;

/** v1.2 (§3.7): a ZONES body is UTF-8 JSON of at most this many bytes. */
export const MAX_ZONES_BODY_BYTES = 65536;

/** v1.4 (§3.4.3): line block head (u16 count, u16 reserved) and one entry per line. */
export const LINE_BLOCK_HEAD_BYTES = 4;
export const LINE_ENTRY_BYTES = 32;

/** v1.4 (§3.8): a LINES body is UTF-8 JSON of at most this many bytes. */
export const MAX_LINES_BODY_BYTES = 65536;

/** v1.2 (§3.4.2): alert state of a zone, as carried in RESULT. */
export const ZoneAlertState = {
  Ok: 0,
  Warning: 1,
  Alarm: 2,
} as const;
export type ZoneAlertStateCode = (typeof ZoneAlertState)[keyof typeof ZoneAlertState];

export function zoneAlertStateName(state: ZoneAlertStateCode): 'ok' | 'warning' | 'alarm' {
  return state === ZoneAlertState.Alarm ? 'alarm' : state === ZoneAlertState.Warning ? 'warning' : 'ok';
}

/** §2: control messages (everything but FRAME and RESULT) are small. */
export const MAX_CONTROL_BODY_BYTES = 4096;

/** §3.1: camera and model names are at most this many UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;

/** HELLO flag bits (§3.1). */
export const HelloFlags = {
  /** Client wants counts only: RESULT carries no density map. */
  CountOnly: 0x01,
  /** v1.1 (§3.1.1): extension fields follow the camera name. Older servers ignore the bit and the bytes. */
  Extensions: 0x02,
} as const;
