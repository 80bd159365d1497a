// Two-factor authentication of the signed-in password user: enrol an authenticator (its secret and
// otpauth URI shown once, confirmed by a code), the ten recovery codes shown once, and turning it off
// with a code. Users of an API token or of single sign-on have no second factor here.
import { useState, type FormEvent } from 'react';
import { apiSend } from '../api/client';
import type { TotpStatus } from '@coffre/contract';
import { Button } from '../components/Button';
import { LoadError, Loading } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';

export function TwoFactorPanel() {
  const { data, error, reload } = useApi<TotpStatus>('/api/auth/totp');
  const { busy, run } = useAction();
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');

  const enrol = async () => {
    const outcome = await run('enrol', () => apiSend<{ secret: string; uri: string }>('POST', '/api/auth/totp/enrol'), 'Add the secret to your authenticator, then type the code it shows.');
    if (outcome.ok) setEnrolment(outcome.result);
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await run('confirm', () => apiSend<{ recoveryCodes: string[] }>('POST', '/api/auth/totp/confirm', { code: code.trim() }), 'Two-factor authentication is on.');
    setCode('');
    if (!outcome.ok) return;
    setEnrolment(null);
    setRecoveryCodes(outcome.result.recoveryCodes);
    await reload();
  };

  const disable = async (event: FormEvent) => {
    event.preventDefault();
    const value = code.trim();
    const body = /^\d{6}$/.test(value) ? { code: value } : { recoveryCode: value };
    const outcome = await run('disable', () => apiSend('POST', '/api/auth/totp/disable', body), 'Two-factor authentication is off.');
    setCode('');
    if (outcome.ok) await reload();
  };

  if (data && !data.available) return null;
  return (
    <section className="panel" aria-labelledby="two-factor-title" data-testid="two-factor">
      <h2 id="two-factor-title">Two-factor authentication</h2>
      {error && !data ? <LoadError error={error} what="your two-factor authentication" /> : null}
      {!data && !error ? <Loading what="two-factor authentication" /> : null}
      {recoveryCodes ? (
        <div data-testid="recovery-codes">
          <p>Keep these recovery codes somewhere safe: each opens one login without your authenticator. They are shown only now.</p>
          <ul className="mono">
            {recoveryCodes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
          <Button small onClick={() => setRecoveryCodes(null)}>
            I have kept them
          </Button>
        </div>
      ) : null}
      {data && !data.enabled && !enrolment ? (
        <>
          <p className="muted">Off: your password alone opens your account. With it on, a login also asks for the code of an authenticator app.</p>
          <Button variant="primary" busy={busy === 'enrol'} onClick={enrol}>
            Turn on two-factor authentication
          </Button>
        </>
      ) : null}
      {enrolment ? (
        <form onSubmit={confirm} noValidate>
          <p>Add this secret to your authenticator app (or open the link on the phone that has it), then type the code it shows. It is shown only now.</p>
          <p>
            Secret: <code data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <p>
            <a href={enrolment.uri} data-testid="totp-uri" className="mono">
              {enrolment.uri}
            </a>
          </p>
          <label className="field">
            <span>Code</span>
            <input name="code" autoComplete="one-time-code" inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} />
          </label>
          <Button type="submit" variant="primary" busy={busy === 'confirm'}>
            Confirm
          </Button>
        </form>
      ) : null}
      {data?.enabled ? (
        <form onSubmit={disable} noValidate>
          <p className="muted" data-testid="two-factor-on">
            On. {data.recoveryCodesLeft} recovery code{data.recoveryCodesLeft === 1 ? '' : 's'} left.
          </p>
          <label className="field">
            <span>Code or recovery code (to turn it off)</span>
            <input name="disable-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          </label>
          <Button type="submit" variant="danger" busy={busy === 'disable'}>
            Turn off two-factor authentication
          </Button>
        </form>
      ) : null}
    </section>
  );
}
