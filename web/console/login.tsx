/** Asks for a viewer or admin token once; the server keeps the session in an HttpOnly cookie. */
import { useState } from 'preact/hooks';
import { signIn } from './api.js';
import { errorText } from './format.js';

export function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const problem = await signIn(token).catch((err: unknown) => `cannot reach the server (${errorText(err)})`);
    setBusy(false);
    if (problem) setError(problem);
    else {
      setToken('');
      onSignedIn();
    }
  };
  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)} autocomplete="off">
        <h1>crowdline console</h1>
        <p>
          Sign in with a viewer or admin token (from <code>crowdline auth add NAME --role viewer</code>).
        </p>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          autofocus
          required
          spellcheck={false}
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
