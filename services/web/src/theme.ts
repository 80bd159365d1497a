// Light or dark: the system's choice, unless the operator picked one with the top bar's toggle
// (kept in this browser). Sets <html data-theme> before the first render, and follows the system
// while nothing was picked.
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'coffre-theme';
const dark = window.matchMedia('(prefers-color-scheme: dark)');

export function themeChoice(): ThemeChoice {
  const stored = localStorage.getItem(KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

export function chooseTheme(choice: ThemeChoice): void {
  if (choice === 'system') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme();
}

export function applyTheme(): void {
  const choice = themeChoice();
  document.documentElement.dataset.theme = choice === 'system' ? (dark.matches ? 'dark' : 'light') : choice;
}

dark.addEventListener('change', applyTheme);
applyTheme();
