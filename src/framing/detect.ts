/**
 * §1: v1 and legacy share a port. A legacy client's first byte is an ASCII
 * digit; a v1 client's first byte is the HELLO type code (0x01).
 */
export type WireProtocol = 'v1' | 'legacy';

export function detectProtocol(firstByte: number): WireProtocol | undefined {
  if (firstByte >= 0x30 && firstByte <= 0x39) return 'legacy';
  if (firstByte === 0x01) return 'v1';
  return undefined;
}
