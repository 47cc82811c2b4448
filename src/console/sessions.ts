/**
 * Signed-in console sessions: a random 256-bit id in an HttpOnly,
 * SameSite=Strict cookie (Secure under TLS), held in memory (a restart signs
 * everyone out). Each ends at its TTL, at sign-out, or when the table is
 * full and it is the oldest; only a hash of the id is kept, so the table
 * itself holds nothing a reader could replay.
 */
import { createHash, randomBytes } from 'node:crypto';

export type ConsoleRole = 'viewer' | 'admin';

export interface ConsoleUser {
  /** The identity from the credentials file; null without --auth (the local operator). */
  name: string | null;
  role: ConsoleRole;
}

interface Stored {
  user: ConsoleUser & { name: string };
  expiresAt: number;
}

export const SESSION_COOKIE = 'crowdline_console';

const digest = (id: string): string => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  /** Insertion order is sign-in order: the first entry is the oldest. */
  private readonly sessions = new Map<string, Stored>();
  private readonly now: () => number;

  constructor(private readonly options: { maxSessions: number; ttlMs: number; now?: () => number }) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session; returns the id to put in the cookie. */
  create(user: ConsoleUser & { name: string }): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(digest(id), { user, expiresAt: this.now() + this.options.ttlMs });
    while (this.sessions.size > this.options.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    return id;
  }

  /** The session's user, or undefined (unknown, expired or ended). */
  get(id: string | undefined): (ConsoleUser & { name: string }) | undefined {
    if (id === undefined || id.length > 64) return undefined;
    const key = digest(id);
    const stored = this.sessions.get(key);
    if (!stored) return undefined;
    if (this.now() >= stored.expiresAt) {
      this.sessions.delete(key);
      return undefined;
    }
    return stored.user;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(digest(id));
  }

  /** Ends every session of an identity (removed from the credentials, or its role changed). */
  endUser(name: string): void {
    for (const [key, s] of this.sessions) if (s.user.name === name) this.sessions.delete(key);
  }

  /** Seconds a new session lives (the cookie's Max-Age). */
  get ttlSeconds(): number {
    return Math.floor(this.options.ttlMs / 1000);
  }
}

/** The session id from a Cookie header, or undefined. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
