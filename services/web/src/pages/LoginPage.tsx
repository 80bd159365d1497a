// The only page a logged-out browser gets: a username and password, or an API token.
import { useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { ApiError } from '../api/client';
import { Button } from '../components/Button';

export function LoginPage() {
  const { login } = useAuth();
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (mode === 'password' && (!username.trim() || !password)) return setError('Enter your username and password.');
    if (mode === 'token' && !token.trim()) return setError('Paste an API token.');
    setBusy(true);
    try {
      await login(mode === 'password' ? { username: username.trim(), password } : { token: token.trim() });
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'The login failed: try again.');
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <div>
            <h1 id="login-title">coffre</h1>
            <p className="muted">Backups of your PostgreSQL databases</p>
          </div>
        </div>
        <div className="segmented" role="tablist" aria-label="How to log in">
          <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>
            Username
          </button>
          <button type="button" role="tab" aria-selected={mode === 'token'} onClick={() => setMode('token')}>
            API token
          </button>
        </div>
        {mode === 'password' ? (
          <>
            <label className="field">
              <span>Username</span>
              <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            </label>
            <label className="field">
              <span>Password</span>
              <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
          </>
        ) : (
          <label className="field">
            <span>API token</span>
            <input name="token" type="password" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
          </label>
        )}
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <Button type="submit" variant="primary" busy={busy} className="button-block">
          Log in
        </Button>
      </form>
    </main>
  );
}
