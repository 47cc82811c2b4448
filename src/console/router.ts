/**
 * The console's route table. A route names its method, its path (exact, or
 * with `:name` segments), who may call it, and how large a body it takes;
 * the server (http-server.ts) does the rest: security headers, host and
 * origin checks, sign-in, role, body limit. Issue 29's API and pages add
 * routes here (docs/console.md, /work/CONSOLE.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleUser } from './sessions.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** public: anyone (the page's files, sign-in); viewer: signed in (viewer or admin); admin: admin only. */
export type Access = 'public' | 'viewer' | 'admin';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `:name` segments of the route's path, decoded. */
  params: Readonly<Record<string, string>>;
  /** Undefined on public routes when nobody is signed in. */
  user: ConsoleUser | undefined;
  /** The request body (empty for GET), at most the route's maxBodyBytes. */
  body: Buffer;
  /** The connection is TLS (cookies get Secure). */
  secure: boolean;
  /** The peer's address (throttling, logs). */
  address: string;
  /** The session id from the cookie, if any. */
  sessionId: string | undefined;
  /** The body as JSON; throws HttpError 415/400 when it is not. */
  json(): unknown;
  sendJson(status: number, value: unknown, headers?: Record<string, string>): void;
  sendText(status: number, text: string, headers?: Record<string, string>): void;
}

export interface Route {
  method: Method;
  /** `/api/login`, `/api/v1/cameras/:name`. */
  path: string;
  access: Access;
  /** Largest body taken (default: the console's maxRequestBytes for POST/PUT/DELETE, 0 for GET). */
  maxBodyBytes?: number;
  handler(ctx: RequestContext): void | Promise<void>;
}

/** Thrown by handlers (or ctx.json) to answer with a status and a short reason. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Compiled {
  route: Route;
  segments: string[];
}

export class Router {
  private readonly exact = new Map<string, Route>();
  private readonly patterns: Compiled[] = [];

  add(route: Route): this {
    const key = `${route.method} ${route.path}`;
    if (this.exact.has(key) || this.patterns.some((p) => `${p.route.method} ${p.route.path}` === key)) throw new Error(`console route ${key} is added twice`);
    if (route.path.includes('/:')) this.patterns.push({ route, segments: route.path.split('/') });
    else this.exact.set(key, route);
    return this;
  }

  /** The route for a request, its params, or which methods the path allows (405). */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: Method[] } {
    const lookup = method === 'HEAD' ? 'GET' : method;
    const hit = this.exact.get(`${lookup} ${path}`);
    if (hit) return { route: hit, params: {} };
    const allowed = new Set<Method>();
    for (const r of this.exact.values()) if (r.path === path) allowed.add(r.method);
    const parts = path.split('/');
    for (const p of this.patterns) {
      const params = matchSegments(p.segments, parts);
      if (!params) continue;
      if (p.route.method === lookup) return { route: p.route, params };
      allowed.add(p.route.method);
    }
    return { allowed: [...allowed] };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
      if (value === '') return undefined;
      params[p.slice(1)] = value;
    } else if (p !== parts[i]) return undefined;
  }
  return params;
}
