// Every 403 goes to the audit log (bounded: see recordRefusal) before the error handler answers it:
// a viewer trying changes, a forged cross-site request, an operator at Bull Board.
import type { ErrorRequestHandler } from 'express';
import { ForbiddenError, recordRefusal, type AppContext } from '@coffre/shared';
import { CsrfRefusedError, withOrigin } from './auth.js';

export function auditRefusals(ctx: AppContext): ErrorRequestHandler {
  return async (error, req, _res, next) => {
    if (error instanceof ForbiddenError) {
      const actor = req.actor ?? withOrigin({ type: 'user', id: null, name: 'anonymous', role: 'viewer' }, req);
      const path = `${req.baseUrl}${req.path}`.slice(0, 200);
      try {
        const recorded = await recordRefusal(ctx.db, actor, {
          action: 'access.denied',
          targetType: 'route',
          targetId: `${req.method} ${path}`,
          reason: error instanceof CsrfRefusedError ? 'csrf' : 'role',
          summary: { method: req.method, path },
        });
        if (recorded === 'dropped') req.log?.debug('refusal not recorded: this minute’s bound of refusal records is reached');
      } catch (failure) {
        // The refusal stands whether or not it could be written down.
        req.log?.warn({ err: failure }, 'could not record a refusal in the audit log');
      }
    }
    next(error);
  };
}
