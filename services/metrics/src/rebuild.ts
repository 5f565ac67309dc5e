import { rebuildMain, replayLog } from '@support/service-kit';
import { SERVICE } from './config.js';
import { applyEvent, invalidReason, type ConversationRow } from './domain/conversation-row.js';
import { openMetricsDatabase, replaceAll } from './adapters/db/store.js';

/**
 * Recreates the read model from the whole log: the same fold as the live
 * consumer (each event id once), written in one transaction that truncates
 * both tables first.
 */
rebuildMain(SERVICE, async ({ bus, config }) => {
  const database = await openMetricsDatabase(config.DATABASE_URL);
  try {
    const rows = new Map<string, ConversationRow>();
    const processed = new Set<string>();
    const now = new Date();
    const replayed = await replayLog(bus, async (event) => {
      if (invalidReason(event) || processed.has(event.eventId)) return;
      processed.add(event.eventId);
      const next = applyEvent(rows.get(event.conversationId), event, now);
      if (next) rows.set(event.conversationId, next);
    });
    await replaceAll(database, [...rows.values()], [...processed]);
    return { events: replayed.events, applied: processed.size, conversations: rows.size };
  } finally {
    await database.pool.end();
  }
});
