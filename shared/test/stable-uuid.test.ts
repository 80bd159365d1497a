// Name-based ids: a scheduler firing and a notification delivery keep the id they were first given,
// across retries and across versions of coffre (rows written by an earlier version are found again).
import { describe, expect, it } from 'vitest';
import { deliveryIdFor, stableUuid } from '@coffre/shared';

describe('stableUuid', () => {
  it('gives the same version-8 UUID for the same text, and another for another text', () => {
    const id = stableUuid('schedule:repeat:configuration-1:1767225600000');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('schedule:repeat:configuration-1:1767225600000')).toBe(id);
    expect(stableUuid('schedule:repeat:configuration-1:1767225660000')).not.toBe(id);
  });

  it('keeps the ids earlier versions gave to scheduler firings and notification deliveries', () => {
    // Computed by the two copies this one replaced: a changed id would run a retried firing twice.
    expect(stableUuid('schedule:repeat:configuration-1:1767225600000')).toBe('98443c27-b472-88ca-b8f5-67bdcc7887aa');
    expect(deliveryIdFor('c', 'backup.failed', 'backup:1')).toBe('ea27d01c-6b24-85d7-bed7-59778d15bdec');
  });
});
