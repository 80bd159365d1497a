// Names people give things are shown to other people: in lists, logs, confirmations and
// notifications. Bidirectional control characters make one name read as another (a name ending in
// U+202E "‮fdp.exe" shows as "exe.pdf"), so a confirmation could be typed for a backup that is not
// the one on screen: every name given through the API refuses them.

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

export const bidiControlsMessage =
  'must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)';

export function hasNoBidiControls(text: string): boolean {
  return !BIDI_CONTROLS.test(text);
}
