// The shell: a logged-out browser gets the login page and nothing else; a logged-in one gets the
// navigation (links an actor's role cannot use are left out) and the pages, each its own chunk of
// the bundle, loaded when first shown.
import { Suspense, lazy, useEffect, useState, type ReactElement } from 'react';
import { NavLink, Navigate, Route, Routes, useLocation, useParams } from 'react-router';
import { useAuth } from './auth';
import { LoginPage } from './pages/LoginPage';
const DashboardPage = lazy(() => import('./pages/dashboard/DashboardPage').then((m) => ({ default: m.DashboardPage })));
const ConfigurationsPage = lazy(() => import('./pages/ConfigurationsPage').then((m) => ({ default: m.ConfigurationsPage })));
const HistoryPage = lazy(() => import('./pages/HistoryPage').then((m) => ({ default: m.HistoryPage })));
const RestoresPage = lazy(() => import('./pages/RestoresPage').then((m) => ({ default: m.RestoresPage })));
const VerificationsPage = lazy(() => import('./pages/VerificationsPage').then((m) => ({ default: m.VerificationsPage })));
const SourcesPage = lazy(() => import('./pages/SourcesPage').then((m) => ({ default: m.SourcesPage })));
const DestinationsPage = lazy(() => import('./pages/DestinationsPage').then((m) => ({ default: m.DestinationsPage })));
const AuditPage = lazy(() => import('./pages/AuditPage').then((m) => ({ default: m.AuditPage })));
const NotificationsPage = lazy(() => import('./pages/NotificationsPage').then((m) => ({ default: m.NotificationsPage })));
const UsersPage = lazy(() => import('./pages/UsersPage').then((m) => ({ default: m.UsersPage })));
const TokensPage = lazy(() => import('./pages/TokensPage').then((m) => ({ default: m.TokensPage })));
const SessionsPage = lazy(() => import('./pages/SessionsPage').then((m) => ({ default: m.SessionsPage })));
import { useToast } from './components/Toasts';
import { CapabilitiesProvider, useCapabilities } from './capabilities';
import { LiveProvider } from './live';
import { ThemeToggle } from './components/ThemeToggle';

export function App() {
  const { actor, checking } = useAuth();
  if (checking) {
    return (
      <div className="splash" aria-busy="true">
        <span className="spinner" aria-hidden="true" /> Loading…
      </div>
    );
  }
  if (!actor) return <LoginPage />;
  return (
    <CapabilitiesProvider>
      <LiveProvider>
        <Shell />
      </LiveProvider>
    </CapabilitiesProvider>
  );
}

const links = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/configurations', label: 'Configurations' },
  { to: '/history', label: 'History' },
  { to: '/restores', label: 'Restores' },
  { to: '/verifications', label: 'Verifications' },
  { to: '/sources', label: 'Sources' },
  { to: '/destinations', label: 'Destinations' },
] as const;

function Shell() {
  const { actor, can, logout } = useAuth();
  const toast = useToast();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  // Destinations come with another issue: the link shows once the API lists the route.
  const capabilities = useCapabilities();
  const destinations = capabilities.has('get', '/api/destinations') === true;
  const notifications = capabilities.has('get', '/api/notification-channels') !== false;
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const adminOnly = (page: ReactElement) => (can('admin') ? page : <Navigate to="/" replace />);

  const signOut = async () => {
    await logout().catch(() => {});
    toast.info('You are logged out.');
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((open) => !open)}>
          <span aria-hidden="true">☰</span>
          <span className="visually-hidden">Menu</span>
        </button>
        <span className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> coffre
        </span>
        <span className="whoami" data-testid="whoami">
          <NavLink to="/sessions" className="whoami-name" title="Your sessions">
            {actor!.name}
          </NavLink>
          <span className={`badge role-${actor!.role}`}>{actor!.role}</span>
        </span>
        <ThemeToggle />
        <button type="button" className="button button-ghost button-small" onClick={signOut}>
          Log out
        </button>
      </header>
      <nav id="nav" className={`sidebar${menuOpen ? ' sidebar-open' : ''}`} aria-label="Main">
        {links.filter((link) => link.to !== '/destinations' || destinations).map((link) => (
          <NavLink key={link.to} to={link.to} end={'end' in link} className="nav-link">
            {link.label}
          </NavLink>
        ))}
        {can('admin') ? (
          <>
            <span className="nav-heading">Administration</span>
            {notifications ? (
              <NavLink to="/notifications" className="nav-link">
                Notifications
              </NavLink>
            ) : null}
            <NavLink to="/users" className="nav-link">
              Users
            </NavLink>
            <NavLink to="/tokens" className="nav-link">
              API tokens
            </NavLink>
            <NavLink to="/audit" className="nav-link">
              Audit log
            </NavLink>
            <a className="nav-link" href="/admin/queues/" target="_blank" rel="noreferrer">
              Queues (Bull Board) ↗
            </a>
          </>
        ) : null}
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Suspense fallback={<PageLoading />}>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/configurations" element={<ConfigurationsPage />} />
          <Route path="/configurations/:id" element={<ConfigurationsPage />} />
          <Route path="/history" element={<HistoryPage />} />
          <Route path="/history/:id" element={<HistoryPage />} />
          {/* The address notifications give a backup: its details panel in the history. */}
          <Route path="/backups/:id" element={<BackupLink />} />
          <Route path="/restores" element={<RestoresPage />} />
          <Route path="/restores/:id" element={<RestoresPage />} />
          <Route path="/verifications" element={<VerificationsPage />} />
          <Route path="/verifications/:id" element={<VerificationsPage />} />
          <Route path="/sources" element={<SourcesPage />} />
          <Route path="/destinations" element={<DestinationsPage />} />
          <Route path="/notifications" element={adminOnly(<NotificationsPage />)} />
          <Route path="/users" element={adminOnly(<UsersPage />)} />
          <Route path="/tokens" element={adminOnly(<TokensPage />)} />
          <Route path="/audit" element={adminOnly(<AuditPage />)} />
          <Route path="/sessions" element={<SessionsPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
        </Suspense>
      </main>
    </div>
  );
}

function PageLoading() {
  return (
    <div className="splash" aria-busy="true">
      <span className="spinner" aria-hidden="true" /> Loading…
    </div>
  );
}

function BackupLink() {
  const { id } = useParams();
  return <Navigate to={`/history/${encodeURIComponent(id ?? '')}`} replace />;
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <NavLink to="/">Go to the dashboard</NavLink>.
      </p>
    </section>
  );
}
