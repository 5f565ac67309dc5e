import 'reflect-metadata';
import { rebuildMain } from '@support/service-kit';
import { foldHandled, rebuildSnapshots, SnapshotStore } from '@support/stream';
import { SERVICE } from './config.js';
import { OPEN } from './adapters/read-model.js';
import { isOpenHandoff } from './domain/queue.js';

/**
 * Throws away the desk's snapshots and its set of open handoffs and recreates
 * them from the log. Briefings and assignments are read again from their
 * topics by the running desk's consumers when their offsets are reset.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  const folded = await foldHandled(bus);
  const snapshots = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE), folded);
  const open = [...folded.snapshots.values()]
    .map((s) => s.state)
    .filter(isOpenHandoff)
    .map((s) => s.conversationId);
  const tx = redis.multi().del(OPEN);
  if (open.length) tx.sadd(OPEN, ...open);
  await tx.exec();
  return { snapshots, eventsReplayed: folded.events, openHandoffs: open.length };
});
