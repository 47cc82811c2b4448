/**
 * Text a peer chose (camera names, bytes quoted in error reasons) as it may
 * appear in a log line: quoted, with every control, format and bidi character
 * escaped, and cut to a length. A peer can then neither start a fake log line
 * (newline, carriage return), nor paint the terminal (ANSI escapes), nor make
 * a line read backwards (U+202E), nor flood a line with a 255-byte name.
 */

// C0/C1 controls, DEL, zero-width and bidi controls, line/paragraph
// separators, BOM, and lone surrogates.
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** `value` quoted and escaped for a log line, at most `maxChars` of it shown. */
export function peerText(value: string, maxChars = 64): string {
  const chars = Array.from(value);
  const shown = chars.length > maxChars ? chars.slice(0, maxChars).join('') : value;
  const escaped = shown.replace(/[\\"]/g, (c) => `\\${c}`).replace(UNSAFE, escapeChar);
  return `"${escaped}"${chars.length > maxChars ? `...(${chars.length} chars)` : ''}`;
}

/** True if `value` has nothing peerText would escape (tests use it on whole log lines). */
export function isPrintableLine(value: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(value);
}

/**
 * A JSON text with every character peerText would escape written as a \uXXXX
 * escape: the same JSON value, but a raw bidi or C1 character in a camera
 * name cannot reach the terminal of someone tailing the JSON log.
 */
export function escapeUnsafeJson(json: string): string {
  // A raw newline can only be the line's end: inside JSON strings it is already escaped.
  return json.replace(UNSAFE, (ch) => (ch === '\n' ? ch : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
