// A cron expression in words ("At 02:30, Monday through Friday"), by cronstrue.
import cronstrue from 'cronstrue';

/** The words, or null when cronstrue cannot read the expression (the form says why). */
export function cronInWords(cron: string): string | null {
  try {
    return cronstrue.toString(cron.trim(), { use24HourTimeFormat: true, verbose: false });
  } catch {
    return null;
  }
}
