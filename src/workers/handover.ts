/**
 * How a frame's JPEG bytes reach a worker thread: moved (transferred) when
 * the caller gives them away and they fill a plain ArrayBuffer of their own,
 * else copied once into one. Moving is what keeps an 8 MB frame from being
 * copied a second time on the main thread; the checks keep it from moving
 * memory it does not own (a slab of Node's Buffer pool holds other
 * buffers too; a view of a received chunk holds the bytes around it).
 */

/** The buffer to put in the task and its transfer list for `bytes`. */
export function handOver(bytes: Uint8Array, movable: boolean): ArrayBuffer {
  const whole = bytes.buffer;
  if (movable && whole instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === whole.byteLength) return whole;
  const own = new Uint8Array(bytes.byteLength);
  own.set(bytes);
  return own.buffer;
}

/** handOver() for every frame of a batch (`movable` absent: copy them all). */
export function handOverAll(jpegs: readonly Uint8Array[], movable?: readonly boolean[]): ArrayBuffer[] {
  return jpegs.map((bytes, i) => handOver(bytes, movable?.[i] === true));
}
