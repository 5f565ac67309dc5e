/**
 * Crash marks on the compacted topic `bus.crash-marks`: which record a
 * consumer group was failing on when its process went down, so that whoever
 * next owns the partition dead-letters that record instead of handling it
 * (and crashing) again. Kafka is the only store; the marks are read when a
 * consumer starts and whenever its group is rebalanced, and only when the
 * topic has grown since the last read (an admin call otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  create,
  fromBinary,
  toBinary,
  CrashMarkSchema,
  type CrashMark,
  type MessageInitShape,
} from '@support/contracts';
import type { BatchingSender } from './batching.js';
import { HeaderNames } from './headers.js';
import { failOnFatalCrash, fetchTopicEnds } from './topic-admin.js';
import { CrashMarksTopic } from './topics.js';

export const markKey = (group: string, topic: string, partition: number): string =>
  `${group}|${topic}|${partition}`;

export interface CrashMarksDeps {
  kafka: Kafka;
  service: string;
  sender: BatchingSender;
  ensureTopic: () => Promise<void>;
  logger: { warn(message: string, context?: Record<string, unknown>): void };
}

const READ_TIMEOUT_MS = 30_000;

export class CrashMarks {
  private marks = new Map<string, CrashMark>();
  /** The topic's end offset when it was last read. */
  private readEnd = -1n;
  private topicReady?: Promise<void>;
  /** The latest read; consumers wait for it before their first record of a new assignment. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly deps: CrashMarksDeps) {}

  get(group: string, topic: string, partition: number): CrashMark | undefined {
    return this.marks.get(markKey(group, topic, partition));
  }

  /** Reads the marks again if the topic grew. Never fails: without marks, consumers work as before. */
  refresh(): Promise<void> {
    this.ready = this.ready.then(() =>
      this.read().catch((err) =>
        this.deps.logger.warn('crash marks not read; going on without them', {
          error: (err as Error).message,
        }),
      ),
    );
    return this.ready;
  }

  async put(marks: Omit<MessageInitShape<typeof CrashMarkSchema>, '$typeName'>[]): Promise<void> {
    if (marks.length === 0) return;
    await this.ensureTopic();
    const values = marks.map((m) => create(CrashMarkSchema, m));
    await this.deps.sender.submit(
      values.map((m) => ({
        topic: CrashMarksTopic.name,
        key: markKey(m.consumerGroup, m.topic, m.partition),
        value: Buffer.from(toBinary(CrashMarkSchema, m)),
        headers: {
          [HeaderNames.eventType]: CrashMarkSchema.typeName,
          [HeaderNames.producer]: this.deps.service,
        },
      })),
    );
    for (const m of values) this.marks.set(markKey(m.consumerGroup, m.topic, m.partition), m);
  }

  /** Clears a mark (a tombstone): its record has been dead-lettered, or passed. */
  async clear(group: string, topic: string, partition: number): Promise<void> {
    const key = markKey(group, topic, partition);
    await this.deps.sender.submit([{ topic: CrashMarksTopic.name, key, value: null }]);
    this.marks.delete(key);
  }

  private ensureTopic(): Promise<void> {
    this.topicReady ??= this.deps.ensureTopic().catch((err) => {
      this.topicReady = undefined;
      throw err;
    });
    return this.topicReady;
  }

  private async read(): Promise<void> {
    await this.ensureTopic();
    const admin = this.deps.kafka.admin();
    await admin.connect();
    try {
      const [p] = await fetchTopicEnds(admin, CrashMarksTopic.name);
      const end = BigInt(p.high);
      if (end === this.readEnd) return;
      const marks = new Map<string, CrashMark>();
      if (end > BigInt(p.low)) await this.replay(end, marks);
      this.marks = marks;
      this.readEnd = end;
    } finally {
      await admin.disconnect();
    }
  }

  /** Reads the topic from its start to `end` with a throw-away consumer group (kafkajs cannot assign). */
  private async replay(end: bigint, into: Map<string, CrashMark>): Promise<void> {
    const groupId = `crash-marks-${this.deps.service}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const consumer = this.deps.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: CrashMarksTopic.name, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error('timed out reading crash marks')),
          READ_TIMEOUT_MS,
        );
        failOnFatalCrash(consumer, reject);
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                if (BigInt(m.offset) >= end) break;
                const key = m.key?.toString('utf8') ?? '';
                if (!m.value) into.delete(key);
                else {
                  try {
                    into.set(key, fromBinary(CrashMarkSchema, m.value));
                  } catch {
                    // Not a mark: nothing to act on.
                  }
                }
              }
              if (BigInt(batch.lastOffset()) + 1n >= end) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      const admin = this.deps.kafka.admin();
      await admin
        .connect()
        .then(() => admin.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => admin.disconnect());
    }
  }
}
