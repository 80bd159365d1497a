// Sentences made of other sentences: a reason quoted inside a message loses its own final period, so
// that "Worker lost: the dump failed." never reads "Worker lost: the dump failed..".

/** `text` to be embedded before a period of the caller's: trimmed, without its final period(s). */
export function clause(text: string): string {
  return text.trim().replace(/[.\s]+$/, '');
}

/**
 * `text` (an error sentence that may quote a tool's or a server's words) with each of `secrets` cut
 * out, the longest first so that a secret inside another goes with it. Secrets shorter than 4
 * characters stay: cutting them would shred the sentence.
 */
export function cutSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}
