// The recovery window of a source as a timeline: the covered spans (any second in them restorable),
// the base backups as marks, and the breaks of the stored WAL in red with from when to when no restore
// is possible. The bar is a picture of the list under it; the list is what screen readers read. WAL
// stored from a server that kept writing after another was promoted (a split brain) is named under
// it: it is no break (restores follow the newer timeline), but an operator must know it exists.
import type { PitrStateView } from '@coffre/contract';
import { Time } from '../../components/Time';

type RecoveryWindow = PitrStateView['window'];

interface Break {
  key: string;
  /** The last moment reachable before it (null: before any base backup). */
  from: string | null;
  /** Where restores are possible again (null: not yet). */
  to: string | null;
  reason: string;
}

/** Each break in the stored WAL, and each stretch between two spans, with its times. */
export function breaksOf(window: RecoveryWindow): Break[] {
  const breaks: Break[] = window.gaps.map((gap) => ({
    key: `${gap.timeline}-${gap.fromLsn}`,
    from: gap.lastReachable,
    to: window.spans.find((s) => gap.lastReachable && s.from > gap.lastReachable)?.from ?? null,
    reason: `WAL file ${gap.file} is ${gap.reason} (timeline ${gap.timeline}, from ${gap.fromLsn}${gap.toLsn ? ` to ${gap.toLsn}` : ''})`,
  }));
  window.spans.slice(1).forEach((span, i) => {
    const previous = window.spans[i]!;
    if (!breaks.some((b) => b.from === previous.to)) breaks.push({ key: `between-${span.from}`, from: previous.to, to: span.from, reason: 'no base backup covers the WAL between these spans' });
  });
  return breaks;
}

/** One sentence per timeline whose stored WAL goes on past where a newer timeline branched off. */
export function divergentOf(window: RecoveryWindow): { key: string; text: string }[] {
  return window.divergent.map((d) => ({
    key: `${d.timeline}-${d.fromLsn}`,
    text:
      `Timeline ${d.timeline} has WAL stored from ${d.fromLsn} to ${d.toLsn}, written after timeline ${d.newTimeline} branched off from it ` +
      `(its server kept taking writes after another was promoted: a split brain). Restores follow timeline ${d.newTimeline} and never replay it; ` +
      `the writes in it are in no restore.`,
  }));
}

/** `newest`: when the newest WAL was stored (the bar goes on to it: a break at the end shows). */
export function PitrTimeline({ window, newest }: { window: RecoveryWindow; newest: string | null }) {
  const breaks = breaksOf(window);
  if (!window.earliest || !window.latest) {
    return (
      <div data-testid="pitr-timeline" data-empty="true">
        <p className="muted">No restorable moment yet: a completed base backup (type physical) and the WAL after it are needed.</p>
        <BreakList breaks={breaks} />
        <DivergentList window={window} />
      </div>
    );
  }
  const start = Date.parse(window.earliest);
  const end = newest && newest > window.latest ? newest : window.latest;
  const span = Math.max(1, Date.parse(end) - start);
  const at = (iso: string) => `${Math.min(100, Math.max(0, ((Date.parse(iso) - start) / span) * 100))}%`;
  const width = (from: string, to: string) => `${Math.max(0.5, ((Date.parse(to) - Date.parse(from)) / span) * 100)}%`;
  const backups = window.spans.flatMap((s) => s.baseBackups);
  return (
    <div data-testid="pitr-timeline" data-earliest={window.earliest} data-latest={window.latest}>
      <div className="timeline" aria-hidden="true">
        {window.spans.map((s) => (
          <div key={s.from} className="timeline-span" style={{ left: at(s.from), width: width(s.from, s.to) }} />
        ))}
        {breaks
          .filter((b) => b.from)
          .map((b) => (
            <div key={b.key} className="timeline-gap" style={{ left: at(b.from!), width: width(b.from!, b.to ?? end) }} />
          ))}
        {backups.map((b) => (
          <div key={b.id} className="timeline-mark" style={{ left: at(b.completedAt) }} title={b.name} />
        ))}
      </div>
      <p className="timeline-ends small">
        <span data-testid="pitr-earliest">
          <Time at={window.earliest} seconds />
        </span>
        <span data-testid="pitr-end">
          <Time at={end} seconds />
        </span>
      </p>
      <h4>Covered</h4>
      <ul className="plain-list">
        {window.spans.map((s) => (
          <li key={s.from} data-testid="pitr-span">
            <span className="timeline-key timeline-key-span" aria-hidden="true" /> Any second from <Time at={s.from} seconds absoluteOnly /> to <Time at={s.to} seconds absoluteOnly />
          </li>
        ))}
      </ul>
      <h4>Base backups</h4>
      <ul className="plain-list">
        {backups.map((b) => (
          <li key={b.id} data-testid="pitr-base-backup">
            <span className="timeline-key timeline-key-mark" aria-hidden="true" /> <span className="mono">{b.name}</span>, completed <Time at={b.completedAt} seconds />
          </li>
        ))}
      </ul>
      <BreakList breaks={breaks} />
      <DivergentList window={window} />
    </div>
  );
}

function DivergentList({ window }: { window: RecoveryWindow }) {
  const divergent = divergentOf(window);
  if (!divergent.length) return null;
  return (
    <>
      <h4>Split brain</h4>
      <ul className="plain-list">
        {divergent.map((d) => (
          <li key={d.key} className="warning" data-testid="pitr-divergent">
            {d.text}
          </li>
        ))}
      </ul>
    </>
  );
}

function BreakList({ breaks }: { breaks: Break[] }) {
  if (!breaks.length) return null;
  return (
    <>
      <h4 className="bad-text">Breaks</h4>
      <ul className="plain-list">
        {breaks.map((b) => (
          <li key={b.key} className="bad-text" data-testid="pitr-gap">
            <span className="timeline-key timeline-key-gap" aria-hidden="true" /> No restore from {b.from ? <Time at={b.from} seconds absoluteOnly /> : 'the start'} to{' '}
            {b.to ? <Time at={b.to} seconds absoluteOnly /> : 'now (no base backup after it yet)'}: {b.reason}.
          </li>
        ))}
      </ul>
    </>
  );
}
