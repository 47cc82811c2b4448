/**
 * Signing in and out. POST /api/login takes {"token": "..."} (a viewer or
 * admin token from `crowdline auth add NAME --role viewer|admin`), checks it
 * like a HELLO's (scrypt, decoy for unknown ids), and sets the session
 * cookie. Failed attempts slow the address down with the same throttle as
 * failed HELLOs: after 3, each further attempt waits 250 ms doubling to 10 s
 * before it is even checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenIdentities } from '../auth/security.js';
import type { LogSink } from '../log/logger.js';
import { peerText } from '../log/peer-text.js';
import type { ConsoleHttp } from './http-server.js';
import { HttpError } from './router.js';
import { clearedCookie, sessionCookie } from './sessions.js';

/** A token is 52 characters; anything much longer is not one. */
const MAX_TOKEN_CHARS = 256;

export function addAccessRoutes(http: ConsoleHttp, tokens: TokenIdentities | undefined, log: LogSink): void {
  http.router.add({
    method: 'GET',
    path: '/api/session',
    access: 'public',
    handler: (ctx) => {
      if (!tokens) return ctx.sendJson(200, { auth: false, user: null });
      const user = ctx.user;
      if (!user) return ctx.sendJson(401, { auth: true, user: null });
      ctx.sendJson(200, { auth: true, user: { name: user.name, role: user.role } });
    },
  });
  http.router.add({
    method: 'POST',
    path: '/api/login',
    access: 'public',
    maxBodyBytes: 1024,
    handler: async (ctx) => {
      if (!tokens) throw new HttpError(404, 'this console has no sign-in (the server runs without --auth)');
      const body = ctx.json() as { token?: unknown } | null;
      const token = body !== null && typeof body === 'object' ? body.token : undefined;
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) throw new HttpError(400, 'send {"token": "..."}');
      const wait = tokens.throttle.delayMs(ctx.address);
      if (wait > 0) await sleep(wait);
      const entry = await tokens.identify(token);
      if (!entry || entry.role === 'camera') {
        tokens.throttle.failed(ctx.address);
        log(`console: sign-in from ${ctx.address} refused (${entry ? `"${peerText(entry.name)}" is a camera identity` : 'token not accepted'})`, {
          level: 'warn',
          event: 'console-login-refused',
          address: ctx.address,
        });
        throw new HttpError(401, entry ? 'this token belongs to a camera; sign in with a viewer or admin token' : 'token not accepted');
      }
      tokens.throttle.succeeded(ctx.address);
      http.sessions.end(ctx.sessionId);
      const id = http.sessions.create({ name: entry.name, role: entry.role });
      log(`console: ${entry.name} (${entry.role}) signed in from ${ctx.address}`, {
        event: 'console-login',
        identity: entry.name,
        role: entry.role,
        address: ctx.address,
      });
      ctx.sendJson(200, { user: { name: entry.name, role: entry.role } }, { 'set-cookie': sessionCookie(id, http.sessions.ttlSeconds, ctx.secure) });
    },
  });
  http.router.add({
    method: 'POST',
    path: '/api/logout',
    access: 'public',
    maxBodyBytes: 0,
    handler: (ctx) => {
      http.signOut(ctx.sessionId);
      ctx.res.setHeader('set-cookie', clearedCookie(ctx.secure));
      ctx.sendJson(200, { user: null });
    },
  });
}
