/** The console's HTTP API as the page uses it (same origin; the session cookie goes by itself). */

export interface SessionInfo {
  auth: boolean;
  user: { name: string; role: 'viewer' | 'admin' } | null;
}

export async function getSession(): Promise<{ signedIn: boolean; info: SessionInfo }> {
  const r = await fetch('/api/session', { credentials: 'same-origin' });
  const info = (await r.json()) as SessionInfo;
  return { signedIn: r.ok, info };
}

/** Undefined when signed in; otherwise what to tell the person. */
export async function signIn(token: string): Promise<string | undefined> {
  const r = await fetch('/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: token.trim() }),
  });
  if (r.ok) return undefined;
  const body = (await r.json().catch(() => ({}))) as { error?: string };
  return body.error ?? `sign-in failed (${r.status})`;
}

export async function signOut(): Promise<void> {
  await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' });
}
