// Why the WAL stream fails, as the point-in-time recovery panel renders it (react-dom/server, no
// browser): an alert naming the worker's sentence and when; nothing while the stream streams.
import { describe, expect, test } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { PitrStateView } from '@coffre/contract';
import { PitrStreamError } from '../src/pages/pitr/PitrStreamError.js';

const refusal =
  'Source "shop" names a server on timeline 1, but its stored WAL already follows timeline 2: this server is the old side of a failover. ' +
  'Nothing is streamed from it: point the source at the server on timeline 2 or later.';

const render = (error: PitrStateView['streamError']) => renderToStaticMarkup(createElement(PitrStreamError, { error }));

describe('the stream failure alert', () => {
  test('names the sentence and when, as an alert', () => {
    const html = render({ message: refusal, at: '2026-12-02T09:00:05.000Z' });
    expect(html).toContain('role="alert"');
    expect(html).toContain('The WAL stream failed');
    // The sentence as the worker wrote it (quotes escaped as HTML), and the moment it failed.
    expect(html).toContain(refusal.replaceAll('"', '&quot;'));
    expect(html).toContain('dateTime="2026-12-02T09:00:05.000Z"');
  });

  test('shows nothing while the stream streams', () => {
    expect(render(null)).toBe('');
  });
});
