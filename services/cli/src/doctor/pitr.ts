// The doctor's check of a source with point-in-time recovery on: every requirement still met, and
// the WAL its replication slot holds on the server (it grows while the WAL cannot be stored, and the
// server's disk with it).
import type { Source } from '@coffre/shared';
import type { LocalCoffre } from '../local.js';
import { humanBytes } from '../output.js';
import type { Outcome, Shared } from './outcome.js';

export async function pitrCheck(shared: Shared, local: LocalCoffre, source: Source): Promise<Outcome> {
  const { ctx } = local;
  const check = await shared.checkPitr(ctx, source.id);
  const missing = check.requirements.filter((r) => !r.ok);
  if (missing.length) {
    return { status: 'fail', message: `Point-in-time recovery is on but ${missing.map((r) => r.name).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not met: the WAL is not streamed.`, fix: missing.map((r) => r.message).join(' '), details: { missing: missing.map((r) => r.name) } };
  }
  const held = await shared.slotUsage(ctx, source.id);
  const limit = ctx.config.PITR_SLOT_ALERT_BYTES;
  if (held === null) return { status: 'fail', message: `The replication slot ${source.pitrSlot} is missing on the server: WAL written while no worker streams is lost.`, fix: `Turn point-in-time recovery off and on again (coffre pitr disable ${source.name}; coffre pitr enable ${source.name}), then take a base backup.` };
  if (held > limit) {
    return {
      status: 'fail',
      message: `The replication slot ${source.pitrSlot} holds ${humanBytes(held)} of WAL not yet stored (limit PITR_SLOT_ALERT_BYTES ${humanBytes(limit)}): the server's disk fills until it is stored.`,
      fix: 'Check that a worker runs and that the destinations can be written (coffre destination test); the stream catches up by itself.',
      details: { heldBytes: held },
    };
  }
  return { status: 'ok', message: `Every requirement is met; the slot ${source.pitrSlot} holds ${humanBytes(held)} of WAL.`, details: { heldBytes: held } };
}
