/**
 * The history API on a node:http server: the console's server calls this for
 * every request that passed its access check (viewer role) and goes on to
 * its own routes when it returns false. GET and HEAD only; answers are never
 * cached (they are live data); CSV comes as a download.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HistoryApi } from './api.js';

/** Paths this module answers (the console routes them here, with the viewer role). */
export const HISTORY_API_PATHS = ['/api/v1/cameras', '/api/v1/history', '/api/v1/alerts', '/api/v1/lines'] as const;

export function serveHistoryApi(api: HistoryApi, req: IncomingMessage, res: ServerResponse, onError: (err: Error) => void = () => undefined): boolean {
  const url = new URL(req.url ?? '/', 'http://console');
  if (!(HISTORY_API_PATHS as readonly string[]).includes(url.pathname)) return false;
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res
      .writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'application/json; charset=utf-8' })
      .end(JSON.stringify({ error: `${req.method} is not allowed here: GET only` }));
    return true;
  }
  let answer: ReturnType<HistoryApi['handle']>;
  try {
    answer = api.handle({ path: url.pathname, query: url.searchParams, accept: req.headers.accept });
  } catch (err) {
    // A read that failed (a damaged file, an I/O error): the request fails, the server does not.
    onError(err as Error);
    res
      .writeHead(500, { ...headers, 'Content-Type': 'application/json; charset=utf-8' })
      .end(JSON.stringify({ error: 'reading the history failed (see the server log)' }));
    return true;
  }
  if (!answer) return false;
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.status, {
    ...headers,
    'Content-Type': answer.contentType,
    'Content-Length': String(body.length),
    ...(answer.filename ? { 'Content-Disposition': `attachment; filename="${answer.filename}"` } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
