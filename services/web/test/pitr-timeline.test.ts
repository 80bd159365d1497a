// The recovery window's timeline as the panel renders it (react-dom/server, no browser): a split brain
// (stored WAL of a timeline past where a newer one branched off) is named with both timelines and its
// LSNs, apart from the breaks; a window without one shows no such section.
import { describe, expect, test } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { PitrStateView } from '@coffre/contract';
import { PitrTimeline, divergentOf } from '../src/pages/pitr/PitrTimeline.js';

type RecoveryWindow = PitrStateView['window'];

const window: RecoveryWindow = {
  earliest: '2026-11-30T10:00:00.000Z',
  latest: '2026-11-30T10:05:00.000Z',
  spans: [{ from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T10:05:00.000Z', baseBackups: [{ id: '00000000-0000-4000-8000-000000000001', name: 'shop-physical', completedAt: '2026-11-30T10:00:00.000Z' }] }],
  gaps: [],
  divergent: [{ timeline: 1, fromLsn: '0/3000148', toLsn: '0/5000000', newTimeline: 2 }],
  walFiles: 7,
  walBytes: 7 * 16 * 1024 * 1024,
};

const render = (w: RecoveryWindow) => renderToStaticMarkup(createElement(PitrTimeline, { window: w, newest: w.latest }));

describe('the recovery window timeline', () => {
  test('names the WAL written past a fork (split brain), with both timelines and where it starts and ends', () => {
    const [entry] = divergentOf(window);
    expect(entry!.text).toContain('Timeline 1 has WAL stored from 0/3000148 to 0/5000000');
    expect(entry!.text).toContain('Restores follow timeline 2 and never replay it');
    const html = render(window);
    expect(html).toContain('Split brain');
    expect(html.match(/data-testid="pitr-divergent"/g)).toHaveLength(1);
    // It is no break: the window stays whole.
    expect(html).not.toContain('data-testid="pitr-gap"');
  });

  test('a window without a fork shows no split-brain section, an empty window still shows the fork', () => {
    expect(render({ ...window, divergent: [] })).not.toContain('Split brain');
    expect(render({ ...window, earliest: null, latest: null, spans: [] })).toContain('data-testid="pitr-divergent"');
  });
});
