// The only page a logged-out browser gets: a username and password (then the code, for users with
// two-factor authentication), an API token, or single sign-on when it is configured.
import { useEffect, useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { ApiError, apiGet } from '../api/client';
import { Button } from '../components/Button';

export function LoginPage() {
  const { login, loginWithCode } = useAuth();
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [provider, setProvider] = useState<string | null>(null);
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  // A refused single sign-on comes back here with its sentence.
  const [error, setError] = useState<string | null>(() => new URLSearchParams(window.location.search).get('error'));
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    apiGet<{ oidc: { name: string } | null }>('/api/auth/providers')
      .then((answer) => setProvider(answer.oidc?.name ?? null))
      .catch(() => setProvider(null));
  }, []);

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (!challenge || !code.trim()) return setError(useRecovery ? 'Enter a recovery code.' : 'Enter the code your authenticator shows.');
    setBusy(true);
    try {
      await loginWithCode(useRecovery ? { challenge, recoveryCode: code.trim() } : { challenge, code: code.trim() });
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'The login failed: try again.');
      if (caught instanceof ApiError && caught.status === 401 && /expired/.test(caught.message)) setChallenge(null);
      setCode('');
      setBusy(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (mode === 'password' && (!username.trim() || !password)) return setError('Enter your username and password.');
    if (mode === 'token' && !token.trim()) return setError('Paste an API token.');
    setBusy(true);
    try {
      const step = await login(mode === 'password' ? { username: username.trim(), password } : { token: token.trim() });
      if (step) {
        setChallenge(step.challenge);
        setBusy(false);
      }
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'The login failed: try again.');
      setBusy(false);
    }
  };

  if (challenge) {
    return (
      <main className="login-page">
        <form className="login-card" onSubmit={submitCode} noValidate aria-labelledby="login-title">
          <h1 id="login-title">Two-factor authentication</h1>
          <p className="muted">{useRecovery ? 'Type one of your recovery codes: each works once.' : 'Type the 6-digit code your authenticator app shows for coffre.'}</p>
          <label className="field">
            <span>{useRecovery ? 'Recovery code' : 'Code'}</span>
            <input
              name="code"
              autoComplete="one-time-code"
              inputMode={useRecovery ? 'text' : 'numeric'}
              spellCheck={false}
              value={code}
              onChange={(e) => setCode(e.target.value)}
              autoFocus
            />
          </label>
          {error ? (
            <p className="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <Button type="submit" variant="primary" busy={busy} className="button-block">
            Verify
          </Button>
          <Button variant="ghost" className="button-block" onClick={() => setUseRecovery(!useRecovery)}>
            {useRecovery ? 'Use the authenticator code' : 'Use a recovery code'}
          </Button>
        </form>
      </main>
    );
  }

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
        {provider ? (
          <a className="button button-block" href="/api/auth/oidc/start" data-testid="sso-login">
            Sign in with {provider}
          </a>
        ) : null}
      </form>
    </main>
  );
}
