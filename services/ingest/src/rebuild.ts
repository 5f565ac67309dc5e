import { rebuildMain } from '@support/service-kit';
import { foldHandled, rebuildSnapshots, SnapshotStore } from '@support/stream';
import { configSchema, SERVICE } from './config.js';
import { quietDueAt } from './domain/closing.js';
import { QUIET_KEY } from './adapters/quiet-window.js';

/**
 * Throws away this service's snapshots and recreates them from the log, and with them the quiet
 * window's candidates (the conversations whose last word is the AI's answer, due when the window
 * ends), which the live consumer keeps only as the log goes by.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  const folded = await foldHandled(bus);
  const rebuilt = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE), folded);
  const windowMs =
    configSchema.shape.QUIET_WINDOW_SECONDS.parse(process.env.QUIET_WINDOW_SECONDS) * 1000;
  const due: (string | number)[] = [];
  for (const { state } of folded.snapshots.values()) {
    const at = quietDueAt(state, windowMs);
    if (at !== undefined) due.push(at, state.conversationId);
  }
  await redis.del(QUIET_KEY);
  if (due.length) await redis.zadd(QUIET_KEY, ...due);
  return { ...rebuilt, quietWindowCandidates: due.length / 2 };
});
