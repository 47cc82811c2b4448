/** The console: sign-in when the server asks for it, then the header and the page the hash names. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getSession, signOut, type SessionInfo } from './api.js';
import { Live } from './live.js';
import { Login } from './login.js';
import { PAGES, pageFor } from './pages.js';
import { errorText } from './format.js';

function useHashPath(): string {
  const read = (): string => location.hash.replace(/^#/, '') || '/';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onChange = (): void => setPath(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

type Phase = { kind: 'checking' } | { kind: 'sign-in' } | { kind: 'in'; session: SessionInfo } | { kind: 'unreachable'; why: string };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const check = (): void => {
    getSession().then(
      ({ signedIn, info }) => setPhase(signedIn ? { kind: 'in', session: info } : { kind: 'sign-in' }),
      (err: unknown) => setPhase({ kind: 'unreachable', why: errorText(err) }),
    );
  };
  useEffect(check, []);
  if (phase.kind === 'checking') return <main class="checking">Connecting…</main>;
  if (phase.kind === 'unreachable') {
    return (
      <main class="checking">
        Cannot reach the server ({phase.why}). <button onClick={check}>Try again</button>
      </main>
    );
  }
  if (phase.kind === 'sign-in') return <Login onSignedIn={check} />;
  return <Console session={phase.session} onSignedOut={() => setPhase({ kind: 'sign-in' })} />;
}

function Console({ session, onSignedOut }: { session: SessionInfo; onSignedOut: () => void }) {
  const live = useMemo(() => new Live(onSignedOut), []);
  const [, setTick] = useState(0);
  const path = useHashPath();
  const { page, params } = pageFor(path);
  useEffect(() => {
    const off = live.subscribe(() => setTick((n) => n + 1));
    live.start();
    // Badges say "stale · 12 s": re-render once a second so they count.
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => {
      off();
      clearInterval(timer);
      live.stop();
    };
  }, [live]);
  const watch = page.watch(params);
  const watchKey = watch === '*' ? '*' : watch.join('\u0000');
  useEffect(() => live.watch(watch), [live, watchKey]);
  const role = session.user?.role ?? 'admin';
  const alarms = live.active.filter((a) => a.state === 'alarm').length;
  const warnings = live.active.length - alarms;
  return (
    <div class="console">
      <header class="top">
        <a class="brand" href="#/">
          crowdline
        </a>
        <nav>
          {PAGES.filter((p) => p.nav && (p.role !== 'admin' || role === 'admin')).map((p) => (
            <a key={p.path} href={`#${p.path}`} class={p === page || page.path.startsWith(`${p.path}/`) ? 'current' : ''}>
              {p.nav}
              {p.path === '/alerts' && live.active.length > 0 && <span class={`pill ${alarms > 0 ? 'alarm' : 'warning'}`}>{live.active.length}</span>}
            </a>
          ))}
        </nav>
        <span class="summary">
          {live.cameras.filter((c) => c.state === 'live').length}/{live.cameras.length} live
          {alarms > 0 && <span class="pill alarm">{alarms} alarm</span>}
          {warnings > 0 && <span class="pill warning">{warnings} warning</span>}
          {live.hello && !live.hello.video && (
            <span class="pill privacy" title="--console-video off: no camera pixels leave the server">
              privacy
            </span>
          )}
        </span>
        <span class={`link ${live.link}`} title={`connection: ${live.link}`}>
          {live.link === 'open' ? 'live' : live.link}
        </span>
        {session.auth && session.user && (
          <span class="user">
            {session.user.name} ({session.user.role}){' '}
            <button
              class="sign-out"
              onClick={() => {
                live.stop();
                void signOut().then(onSignedOut);
              }}
            >
              Sign out
            </button>
          </span>
        )}
      </header>
      <main class="page">{page.role === 'admin' && role !== 'admin' ? <p>This page needs the admin role.</p> : page.render({ live, params })}</main>
    </div>
  );
}
