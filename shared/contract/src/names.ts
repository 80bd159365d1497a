// Names people give things are shown to other people: in lists, logs, confirmations and
// notifications. Bidirectional control characters make one name read as another (a name ending in
// U+202E "‮fdp.exe" shows as "exe.pdf"), so a confirmation could be typed for a backup that is not
// the one on screen: every name given through the API refuses them. So do the control characters
// (C0, DEL and C1: U+009B is the one-byte CSI, which colours or moves a terminal's text), the line
// and paragraph separators (a name on two lines of a log), and the zero-width characters (two names
// that look the same and are not).

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/;
const LINE_SEPARATORS = /[\u2028\u2029]/;
// Not U+200C and U+200D (non-joiner, joiner): Persian words, Indic scripts and emoji sequences need them.
const ZERO_WIDTH = /[\u200B\u2060\uFEFF]/;

export const bidiControlsMessage =
  'must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)';
export const controlCharactersMessage = 'must not contain control characters';
export const lineSeparatorsMessage = 'must not contain line or paragraph separators (U+2028, U+2029)';
export const zeroWidthMessage = 'must not contain zero-width spaces (U+200B, U+2060, U+FEFF)';

export function hasNoBidiControls(text: string): boolean {
  return !BIDI_CONTROLS.test(text);
}

/** No C0 control, DEL or C1 control (U+0000–U+001F, U+007F–U+009F). */
export function hasNoControlCharacters(text: string): boolean {
  return !CONTROLS.test(text);
}

export function hasNoLineSeparators(text: string): boolean {
  return !LINE_SEPARATORS.test(text);
}

export function hasNoZeroWidthCharacters(text: string): boolean {
  return !ZERO_WIDTH.test(text);
}

/** Every rule a name obeys, each with the predicate its refusal says. */
export const nameRules: readonly (readonly [(text: string) => boolean, string])[] = [
  [hasNoControlCharacters, controlCharactersMessage],
  [hasNoLineSeparators, lineSeparatorsMessage],
  [hasNoZeroWidthCharacters, zeroWidthMessage],
  [hasNoBidiControls, bidiControlsMessage],
];

/** Characters a sentence shows as \uXXXX rather than prints: every one a name refuses. */
// eslint-disable-next-line no-control-regex
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200B\u200E\u200F\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u061C]/g;
