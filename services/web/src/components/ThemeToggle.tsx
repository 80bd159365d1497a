// The top bar's theme switch: system → light → dark → system. Its name says what it is now and
// what a press makes it.
import { useState } from 'react';
import { chooseTheme, themeChoice, type ThemeChoice } from '../theme';

const next: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const icon: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

export function ThemeToggle() {
  const [choice, setChoice] = useState(themeChoice);
  return (
    <button
      type="button"
      className="button button-ghost button-small theme-toggle"
      data-testid="theme-toggle"
      data-choice={choice}
      aria-label={`Theme: ${choice === 'system' ? 'as the system' : choice}. Switch to ${next[choice] === 'system' ? 'the system’s' : next[choice]}`}
      title={`Theme: ${choice}`}
      onClick={() => {
        chooseTheme(next[choice]);
        setChoice(next[choice]);
      }}
    >
      <span aria-hidden="true">{icon[choice]}</span>
    </button>
  );
}
