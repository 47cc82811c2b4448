import type { V1Connection } from '../../client/connection/connection.js';
import type { ResultMessage } from '../../src/framing/index.js';

/** Resolves with the next n RESULTs on the connection (rejects if it closes first). */
export function collectResults(conn: V1Connection, n: number, timeoutMs = 60_000): Promise<ResultMessage[]> {
  return new Promise((resolve, reject) => {
    const out: ResultMessage[] = [];
    if (n === 0) return resolve(out);
    const timer = setTimeout(() => reject(new Error(`only ${out.length}/${n} results within ${timeoutMs} ms`)), timeoutMs);
    const onResult = (m: ResultMessage): void => {
      out.push(m);
      if (out.length === n) {
        clearTimeout(timer);
        conn.off('result', onResult);
        conn.off('close', onClose);
        resolve(out);
      }
    };
    const onClose = (err: Error | undefined): void => {
      clearTimeout(timer);
      reject(new Error(`connection closed after ${out.length}/${n} results${err ? `: ${err.message}` : ''}`));
    };
    conn.on('result', onResult);
    conn.on('close', onClose);
  });
}
