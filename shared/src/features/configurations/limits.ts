// The limits a configuration sets on its runs, with the installation's defaults.
import type { AppContext } from '../../infra/context.js';

/** The time limit, in seconds, of a run of this configuration (or of a backup outside any). */
export async function runTimeLimitSeconds(ctx: AppContext, configurationId: string | null): Promise<number> {
  const configuration = configurationId
    ? await ctx.db.backupConfiguration.findUnique({ where: { id: configurationId }, select: { timeLimitSeconds: true } })
    : null;
  return configuration?.timeLimitSeconds ?? ctx.config.RUN_TIME_LIMIT_SECONDS;
}
