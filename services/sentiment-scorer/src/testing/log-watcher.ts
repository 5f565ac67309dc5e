import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { decodeHeaders, Topics, type RecordMeta } from '@support/bus';
import { ConversationEventSchema, fromBinary, type ConversationEvent } from '@support/contracts';

export interface WatchedRecord {
  event: ConversationEvent;
  meta: RecordMeta;
  partition: number;
  offset: string;
}

/**
 * Test helper: reads conversation.events from its current end with a
 * throw-away consumer group and keeps what it sees, so that a test can wait
 * for the records its actions cause.
 */
export class LogWatcher {
  readonly records: WatchedRecord[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly consumer: Consumer,
    private readonly kafka: Kafka,
    private readonly groupId: string,
  ) {}

  static async start(kafka: Kafka, prefix: string): Promise<LogWatcher> {
    const topic = Topics.events.name;
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const groupId = `${prefix}-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const watcher = new LogWatcher(consumer, kafka, groupId);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!message.value) return;
        const event = fromBinary(ConversationEventSchema, message.value);
        watcher.records.push({
          event,
          meta: decodeHeaders(message.headers),
          partition,
          offset: message.offset,
        });
        for (const wake of watcher.waiters) wake();
      },
    });
    for (const { partition, high } of ends) consumer.seek({ topic, partition, offset: high });
    return watcher;
  }

  /** Resolves with the records matching `predicate` once there are at least `count` of them. */
  async waitFor(
    predicate: (r: WatchedRecord) => boolean,
    count = 1,
    timeoutMs = 30_000,
  ): Promise<WatchedRecord[]> {
    const matching = () => this.records.filter(predicate);
    if (matching().length >= count) return matching();
    return new Promise((resolve, reject) => {
      const wake = () => {
        if (matching().length < count) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(matching());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} matching record(s); saw ${matching().length}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
