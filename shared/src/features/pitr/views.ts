// Point-in-time recovery as the API shows it: dates as ISO strings, base backups by id and name.
import type { PitrStateView } from '@coffre/contract';
import type { PitrState } from './commands.js';
import type { RecoveryWindow } from './window.js';

export function recoveryWindowToApi(window: RecoveryWindow): PitrStateView['window'] {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    earliest: iso(window.earliest),
    latest: iso(window.latest),
    spans: window.spans.map((s) => ({
      from: s.from.toISOString(),
      to: s.to.toISOString(),
      baseBackups: s.baseBackups.map((b) => ({ id: b.id, name: b.name, completedAt: b.completedAt!.toISOString() })),
    })),
    gaps: window.gaps.map((g) => ({ ...g, lastReachable: iso(g.lastReachable) })),
    divergent: window.divergent,
    walFiles: window.walFiles,
    walBytes: window.walBytes,
  };
}

export function pitrStateToApi(state: PitrState): PitrStateView {
  return {
    sourceId: state.sourceId,
    source: state.source,
    enabled: state.enabled,
    slot: state.slot,
    lastWal: state.lastWal ? { ...state.lastWal, receivedAt: state.lastWal.receivedAt.toISOString() } : null,
    streamError: state.streamError ? { message: state.streamError.message, at: state.streamError.at.toISOString() } : null,
    window: recoveryWindowToApi(state.window),
  };
}
