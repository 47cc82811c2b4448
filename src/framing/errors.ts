import { ErrorCode, type ErrorCodeValue } from './constants.js';

/**
 * A violation of docs/protocol.md. `rule` names the section that was broken
 * (e.g. "v1 §2.3"), so a log line points a client author at the fix.
 */
export class ProtocolError extends Error {
  readonly rule: string;
  readonly code: ErrorCodeValue;

  constructor(rule: string, message: string, code: ErrorCodeValue = ErrorCode.MalformedMessage) {
    super(`${message} [${rule}]`);
    this.name = 'ProtocolError';
    this.rule = rule;
    this.code = code;
  }
}
