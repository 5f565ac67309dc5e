import { fromBinary, KnowledgeEventSchema } from '@support/contracts';
import { Topics, type Bus } from '@support/bus';
import { replayLog } from '@support/service-kit';
import { ReadModelFold } from '../domain/read-model.js';
import { replaceAll, type MetricsDatabase } from './db/store.js';

/**
 * Reads knowledge.events from the beginning to its current end, once, outside any consumer group's
 * offsets (service-kit's replayLog does the same for the conversation log only).
 */
export async function replayKnowledgeEvents(
  bus: Bus,
  onEvent: (value: Uint8Array) => void,
): Promise<number> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(Topics.knowledgeEvents.name);
    const remaining = new Map(
      ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
    );
    if (remaining.size === 0) return 0;
    let records = 0;
    const groupId = `replay-${bus.service}-knowledge-${process.pid}-${Date.now()}`;
    const consumer = bus.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.knowledgeEvents.name, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break;
              if (message.value) onEvent(message.value);
              records++;
              if (BigInt(message.offset) + 1n >= end) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) resolve();
                break;
              }
            }
            await heartbeat();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return records;
  } finally {
    await admin.disconnect();
  }
}

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
  const knowledgeEvents = await replayKnowledgeEvents(bus, (bytes) => {
    try {
      fold.knowledgeEvent(fromBinary(KnowledgeEventSchema, bytes));
    } catch {
      // Undecodable: the live consumer dead-lettered it.
    }
  });
  const model = fold.result();
  await replaceAll(database, model);
  return {
    events: replayed.events,
    knowledgeEvents,
    applied: model.eventIds.length,
    conversations: model.conversations.length,
  };
}
