// Who is logged in. The session itself is the httpOnly cookie; the UI only knows the actor the API
// returns, and goes back to the login page whenever the API answers 401.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { apiGet, apiSend, csrfToken, onUnauthorized } from './api/client';
import type { ActorView as Actor, Role } from '@coffre/contract';

interface AuthState {
  actor: Actor | null;
  checking: boolean;
  /** Opens a session; with two-factor authentication, answers the challenge to send with the code instead. */
  login(credentials: { username: string; password: string } | { token: string }): Promise<{ challenge: string } | null>;
  /** The second step of a login: the code the authenticator shows, or a recovery code. */
  loginWithCode(step: { challenge: string; code: string } | { challenge: string; recoveryCode: string }): Promise<void>;
  logout(): Promise<void>;
  /** Whether the actor's role includes `role` (admin ⊃ operator ⊃ viewer). */
  can(role: Role): boolean;
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [actor, setActor] = useState<Actor | null>(null);
  const [checking, setChecking] = useState(true);

  useEffect(() => {
    let live = true;
    const stop = onUnauthorized(() => setActor(null));
    // No CSRF cookie means no session (both are set and expire together): no need to ask.
    if (!csrfToken()) {
      setChecking(false);
      return stop;
    }
    apiGet<Actor>('/api/auth/me')
      .then((me) => live && setActor(me))
      .catch(() => live && setActor(null))
      .finally(() => live && setChecking(false));
    return () => {
      live = false;
      stop();
    };
  }, []);

  const login = useCallback(async (credentials: { username: string; password: string } | { token: string }) => {
    const answer = await apiSend<{ actor: Actor } | { secondFactor: 'totp'; challenge: string }>('POST', '/api/auth/login', credentials);
    if ('challenge' in answer) return { challenge: answer.challenge };
    setActor(answer.actor);
    return null;
  }, []);

  const loginWithCode = useCallback(async (step: { challenge: string; code: string } | { challenge: string; recoveryCode: string }) => {
    const answer = await apiSend<{ actor: Actor }>('POST', '/api/auth/login/totp', step);
    setActor(answer.actor);
  }, []);

  const logout = useCallback(async () => {
    try {
      await apiSend('POST', '/api/auth/logout');
    } finally {
      setActor(null);
    }
  }, []);

  const value = useMemo<AuthState>(
    () => ({ actor, checking, login, loginWithCode, logout, can: (role) => (actor ? rank[actor.role] >= rank[role] : false) }),
    [actor, checking, login, loginWithCode, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}
