/**
 * The one rule for camera and zone names, shared by the server's site file and
 * the camera client, so a name one accepts the other accepts too. A camera
 * name is the client's file names (NAME.csv, NAME-<time>.mp4), the HELLO
 * name, a metric label and an MQTT topic level:
 *
 * - 1-64 characters: letters of any script (with their combining marks),
 *   decimal digits, spaces and `_ . - : @`;
 * - the first a letter or a digit, the last not a space;
 * - at most 255 bytes of UTF-8 (HELLO's name length is one byte).
 *
 * So never `/ + #` (MQTT topic syntax), `%` (the recorder's strftime file
 * pattern), quotes, control characters or path separators.
 */
const NAME = /^[\p{L}\p{Nd}][\p{L}\p{M}\p{Nd}_.\-:@ ]{0,63}$/u;

export const NAME_RULE = '1-64 letters (any script), digits, spaces or _ . - : @, starting with a letter or digit and not ending with a space';

export function isValidName(name: string): boolean {
  return NAME.test(name) && !name.endsWith(' ') && Buffer.byteLength(name, 'utf8') <= 255;
}
