import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { fromBinary, type DescMessage } from '@support/contracts';
import {
  decodeHeaders,
  fetchTopicEnds,
  headersToStrings,
  type Incoming,
  type TopicSpec,
} from '@support/bus';

/** What the watcher needs to know of a topic: its name and the schema of its values. */
export type WatchedTopic<Desc extends DescMessage = DescMessage> = Pick<
  TopicSpec<Desc>,
  'name' | 'schema'
>;

/**
 * A record seen on a watched topic, decoded with the topic's schema: what a
 * consumer's handler gets from the bus, with every header as a string and the
 * value's bytes as `raw`.
 */
export interface WatchedRecord<Desc extends DescMessage = DescMessage> extends Omit<
  Incoming<Desc>,
  'raw'
> {
  /** Every header as a string, as it was on the record. */
  headers: Record<string, string>;
  /** The value's bytes. */
  raw: Buffer;
}

/** A record whose value did not decode with its topic's schema. */
export interface UndecodableRecord extends Omit<WatchedRecord, 'value' | 'meta'> {
  error: string;
}

export interface TopicWatcherOptions {
  /** Prefix of the throw-away consumer group's id (a random suffix is added). */
  group?: string;
  /** How long `waitFor` waits unless told otherwise. */
  timeoutMs?: number;
  /** How long `start` waits for the consumer to join its group. */
  joinTimeoutMs?: number;
}

export interface WaitOptions {
  /** How many matching records to wait for. */
  count?: number;
  timeoutMs?: number;
}

/**
 * Test helper: reads some topics from their current end with a throw-away
 * consumer group and keeps every record it sees, decoded, so that a test can
 * wait for the records its actions cause. The group is deleted on `stop`.
 */
export class TopicWatcher {
  private readonly seen = new Map<string, WatchedRecord[]>();
  private readonly bad: UndecodableRecord[] = [];
  private readonly waiters = new Set<() => void>();
  /** Per topic and partition: the offset of the next record to read. */
  private readonly positions = new Map<string, Map<number, bigint>>();
  private admin?: Promise<Admin>;
  private failure?: Error;

  private constructor(
    private readonly kafka: Kafka,
    private readonly topics: readonly WatchedTopic[],
    private readonly consumer: Consumer,
    readonly groupId: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Starts watching from the end of each partition of the topics as it is
   * when `start` is called: what is written from then on is seen, what was
   * there before is not. Resolves once the consumer has joined its group.
   */
  static async start(
    kafka: Kafka,
    topics: readonly WatchedTopic[],
    options: TopicWatcherOptions = {},
  ): Promise<TopicWatcher> {
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map<string, { partition: number; high: string }[]>();
    try {
      for (const t of topics) ends.set(t.name, await fetchTopicEnds(admin, t.name));
    } finally {
      await admin.disconnect();
    }
    const groupId = `${options.group ?? 'test-watch'}-${randomUUID()}`;
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // A fetch returns as soon as there is data; a short long-poll only makes `stop` quick.
      maxWaitTimeInMs: 500,
    });
    const watcher = new TopicWatcher(kafka, topics, consumer, groupId, options.timeoutMs ?? 30_000);
    for (const [topic, offsets] of ends) {
      watcher.positions.set(topic, new Map(offsets.map((o) => [o.partition, BigInt(o.high)])));
    }
    const joined = new Promise<void>((resolve, reject) => {
      // On every (re)join, also when kafkajs restarted the consumer after an error (the first join
      // on a new cluster often is one) and so forgot earlier seeks: go on from where the watcher
      // stands. kafkajs emits this before it fetches, and applies the seeks before the first fetch.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const next = watcher.positions.get(topic)?.get(partition);
            if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() });
          }
        }
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        watcher.fail(payload.error);
        reject(payload.error);
      });
    });
    joined.catch(() => undefined); // awaited below; a crash after the join only fails waiters
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: topics.map((t) => t.name), fromBeginning: false });
      // A transaction's marker takes an offset but is no message: the position moves past it
      // once its batch is done, else a partition a transactional producer wrote last would never
      // count as caught up.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
        watcher.reached(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n),
      );
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) =>
          watcher.add(topic, partition, message),
      });
      await withTimeout(joined, options.joinTimeoutMs ?? 30_000, `${groupId} to join its group`);
    } catch (err) {
      await watcher.stop().catch(() => undefined);
      throw err;
    }
    return watcher;
  }

  /** Every record seen on the topic so far, in the order they were read. */
  records<Desc extends DescMessage>(topic: WatchedTopic<Desc>): WatchedRecord<Desc>[] {
    return [...this.list(topic)];
  }

  /** Records of the watched topics whose value did not decode with the topic's schema. */
  undecodable(): UndecodableRecord[] {
    return [...this.bad];
  }

  /**
   * Resolves with the topic's records matching `predicate` once there are at
   * least `count` of them, and once the watcher has read every watched
   * topic up to where it ended at that moment: what was written before the
   * match (its causes, on any watched topic) has been seen too.
   */
  async waitFor<Desc extends DescMessage>(
    topic: WatchedTopic<Desc>,
    predicate: (r: WatchedRecord<Desc>) => boolean,
    { count = 1, timeoutMs = this.timeoutMs }: WaitOptions = {},
  ): Promise<WatchedRecord<Desc>[]> {
    if (!this.topics.some((t) => t.name === topic.name)) {
      throw new Error(
        `${topic.name} is not watched (watching ${this.topics.map((t) => t.name).join(', ')})`,
      );
    }
    const deadline = Date.now() + timeoutMs;
    const matching = () => this.list(topic).filter(predicate);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.failure) {
          done();
          reject(new Error(`the watcher's consumer crashed: ${this.failure.message}`));
          return;
        }
        if (matching().length < count) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} matching record(s) on ${topic.name}; ` +
              `saw ${matching().length} matching of ${this.list(topic).length}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
    await this.catchUp(deadline);
    return matching();
  }

  /** Disconnects the consumer and deletes its throw-away group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    const admin = await this.connectedAdmin();
    try {
      await admin.deleteGroups([this.groupId]).catch(() => undefined);
    } finally {
      this.admin = undefined;
      await admin.disconnect();
    }
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => (this.admin = undefined));
    }
    return this.admin;
  }

  /** Waits until every watched partition has been read up to its current end. */
  private async catchUp(deadline: number): Promise<void> {
    const admin = await this.connectedAdmin();
    const ends = await Promise.all(
      this.topics.map(async (t) => ({
        topic: t.name,
        offsets: await fetchTopicEnds(admin, t.name),
      })),
    );
    const behind = () =>
      ends.flatMap(({ topic, offsets }) =>
        offsets
          .filter((o) => (this.positions.get(topic)?.get(o.partition) ?? 0n) < BigInt(o.high))
          .map((o) => `${topic}[${o.partition}]`),
      );
    while (behind().length) {
      if (this.failure) throw new Error(`the watcher's consumer crashed: ${this.failure.message}`);
      if (Date.now() > deadline) {
        throw new Error(`timed out catching up with ${behind().join(', ')} after a match`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private list<Desc extends DescMessage>(
    topic: WatchedTopic<Desc>,
  ): readonly WatchedRecord<Desc>[] {
    return (this.seen.get(topic.name) ?? []) as WatchedRecord<Desc>[];
  }

  private reached(topic: string, partition: number, next: bigint): void {
    const positions = this.positions.get(topic);
    if (positions && next > (positions.get(partition) ?? 0n)) positions.set(partition, next);
  }

  private add(topic: string, partition: number, message: KafkaMessage): void {
    const spec = this.topics.find((t) => t.name === topic);
    const positions = this.positions.get(topic);
    const offset = BigInt(message.offset);
    // Before the start, or read already (kafkajs rewinds a partition when it applies a seek).
    if (!spec || !positions || offset < (positions.get(partition) ?? 0n)) return;
    positions.set(partition, offset + 1n);
    const raw = message.value ?? Buffer.alloc(0);
    const common = {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8') ?? '',
      headers: headersToStrings(message.headers),
      raw,
    };
    try {
      const decoded = fromBinary(spec.schema, raw);
      const list = this.seen.get(topic) ?? [];
      list.push({ ...common, value: decoded, meta: decodeHeaders(message.headers) });
      this.seen.set(topic, list);
    } catch (err) {
      this.bad.push({ ...common, error: (err as Error).message });
    }
    for (const wake of [...this.waiters]) wake();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const wake of [...this.waiters]) wake();
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
