import { Topics, type Bus } from '@support/bus';
import { replayLog, replayTopic } from '@support/stream';
import { ReadModelFold } from '../domain/read-model.js';
import { replaceAll, type MetricsDatabase } from './db/store.js';

/** The whole read model again from both topics, through the live consumers' fold, replacing the tables. */
export async function rebuildReadModel(
  bus: Bus,
  database: MetricsDatabase,
  now = new Date(),
): Promise<{ events: number; knowledgeEvents: number; applied: number; conversations: number }> {
  const fold = new ReadModelFold(now);
  const replayed = await replayLog(bus, async (event) => {
    fold.conversationEvent(event);
  });
  // Undecodable records are skipped: the live consumer dead-lettered them.
  const knowledge = await replayTopic(bus, Topics.knowledgeEvents, async (event) => {
    fold.knowledgeEvent(event);
  });
  const model = fold.result();
  await replaceAll(database, model);
  return {
    events: replayed.events,
    knowledgeEvents: knowledge.records,
    applied: model.eventIds.length,
    conversations: model.conversations.length,
  };
}
