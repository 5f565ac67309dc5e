import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { fromBinary, type DescMessage, type MessageShape } from '@support/contracts';
import { decodeHeaders, type Bus, type RecordMeta, type TopicSpec } from '@support/bus';

export interface Seen<Desc extends DescMessage> {
  key: string;
  value: MessageShape<Desc>;
  meta: RecordMeta;
}

/**
 * Collects what appears on some topics from now on, for the keys a test owns.
 * Uses a throw-away consumer group that starts at the current end of each
 * partition and is deleted on close.
 */
export class TopicWatch {
  private consumer?: Consumer;
  private readonly groupId = `itest-watch-${randomUUID()}`;
  private readonly seen = new Map<string, Seen<DescMessage>[]>();

  constructor(
    private readonly bus: Bus,
    private readonly topics: TopicSpec[],
    private readonly keys: Set<string>,
  ) {}

  async start(): Promise<void> {
    const admin = this.bus.kafka.admin();
    await admin.connect();
    const starts = await Promise.all(
      this.topics.map(async (t) => ({
        topic: t.name,
        offsets: await admin.fetchTopicOffsets(t.name),
      })),
    );
    await admin.disconnect();
    const consumer = this.bus.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics.map((t) => t.name), fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const key = message.key?.toString('utf8') ?? '';
        if (!this.keys.has(key) || !message.value) return;
        const spec = this.topics.find((t) => t.name === topic)!;
        const list = this.seen.get(topic) ?? [];
        list.push({
          key,
          value: fromBinary(spec.schema, message.value),
          meta: decodeHeaders(message.headers),
        });
        this.seen.set(topic, list);
      },
    });
    for (const { topic, offsets } of starts) {
      for (const p of offsets) consumer.seek({ topic, partition: p.partition, offset: p.high });
    }
  }

  all<Desc extends DescMessage>(topic: TopicSpec<Desc>): Seen<Desc>[] {
    return (this.seen.get(topic.name) ?? []) as unknown as Seen<Desc>[];
  }

  /** Waits until a record matching `match` was seen on the topic. */
  async waitFor<Desc extends DescMessage>(
    topic: TopicSpec<Desc>,
    match: (s: Seen<Desc>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Seen<Desc>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.all(topic).find(match);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`nothing matching appeared on ${topic.name} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    const admin = this.bus.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
