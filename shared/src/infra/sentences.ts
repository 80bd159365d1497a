// Sentences made of other sentences: a reason quoted inside a message loses its own final period, so
// that "Worker lost: the dump failed." never reads "Worker lost: the dump failed..".

/** `text` to be embedded before a period of the caller's: trimmed, without its final period(s). */
export function clause(text: string): string {
  return text.trim().replace(/[.\s]+$/, '');
}
