/**
 * Protobuf over kafkajs, used directly rather than through the NestJS Kafka
 * transport: the transport parses values as JSON unless told otherwise, renames
 * client and group ids, and hides the crash and commit hooks this needs.
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Kafka, logLevel, type Admin, type LogEntry, type ISocketFactory } from 'kafkajs';
import {
  toBinary,
  ConversationEventSchema,
  eventTypeName,
  SCHEMA_VERSION,
  type ConversationEvent,
  type DescMessage,
  type MessageShape,
} from '@support/contracts';
import { encodeHeaders } from './headers.js';
import { AllTopics, CrashMarksTopic, maxMessageBytesOf, type TopicSpec } from './topics.js';
import { BatchingSender, type OutgoingRecord } from './batching.js';
import { currentCapture } from './outbox.js';
import { consoleLogger, type BusLogger } from './logger.js';
import { withTimeout } from './timeout.js';
import { BusProducer } from './producer.js';
import { GroupConsumer, type ConsumeOptions, type ConsumerStatus } from './consumer.js';
import { CrashMarks } from './crash-marks.js';
import { DeadLetterWriter } from './dead-letter.js';
import { retryPolicyFromEnv, type RetryPolicy } from './retry.js';
import { createMissingTopics } from './topic-admin.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from './size.js';

export interface BusOptions {
  /** Service name: the client id, the producer header and the consumer group prefix. */
  service: string;
  brokers: string[];
  logger?: BusLogger;
  /** Called when a consumer has crashed for good. Defaults to exiting the process with code 1. */
  onFatal?: (reason: Error) => void;
  /** Consumer session timeout: how soon a dead member's partitions move to a live one. */
  sessionTimeoutMs?: number;
  /** How failing handlers are retried before their record is dead-lettered. Default: from the environment (retryPolicyFromEnv). */
  retry?: Partial<RetryPolicy>;
  /**
   * This replica's id, stable across its restarts and unique among the service's replicas (say
   * "router-0"): its consumers are static members, so a restart after a crash takes their
   * partitions back at once. None: dynamic members.
   */
  instanceId?: string;
  /**
   * A handler still running after this long is logged as a warning, once per attempt (a stuck
   * handler holds its partition's records behind it). Default KAFKA_SLOW_HANDLER_MS, 10 s.
   */
  slowHandlerMs?: number;
}

/** A record this service wants to publish. */
export interface Outgoing<Desc extends DescMessage> {
  topic: TopicSpec<Desc>;
  key: string;
  value: MessageShape<Desc>;
  /**
   * Deterministic for its cause, so redeliveries can be recognised. Default: a conversation
   * event's own id; random for any other record.
   */
  eventId?: string;
  correlationId?: string;
  causationId?: string;
}

/** How long `close` waits for the work given to `track`. */
const BACKGROUND_WAIT_MS = 10_000;

/**
 * kafkajs's own socket factory leaves Nagle's algorithm on, which holds small
 * requests back until the previous one is acknowledged (tens of milliseconds
 * per hop with delayed ACKs). Same as kafkajs's, with TCP_NODELAY.
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect(
        { host, port, ...(!net.isIP(host) ? { servername: host } : {}), ...ssl },
        onConnect,
      )
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};

export class Bus {
  readonly kafka: Kafka;
  private readonly producer: BusProducer;
  /** See `track`. */
  private readonly background = new Set<Promise<unknown>>();
  /** max.message.bytes by topic, from the catalogue and every spec this bus was given. */
  private readonly limits = new Map<string, number>(
    AllTopics.map((t) => [t.name, maxMessageBytesOf(t)]),
  );
  private readonly sender = new BatchingSender((records) => this.sendBatch(records), {
    limitOf: (topic) => this.limitOf(topic),
  });
  private readonly consumers = new Map<string, GroupConsumer>();
  readonly logger: BusLogger;
  private readonly retry: RetryPolicy;
  private readonly marks: CrashMarks;
  private readonly deadLetters: DeadLetterWriter;
  private stopping = false;
  private crashing?: Promise<void>;
  /** Counters for Prometheus: dead letters written and records handled, per topic. */
  readonly stats = { deadLettered: 0, handled: 0, published: 0 };

  constructor(private readonly options: BusOptions) {
    this.logger = options.logger ?? consoleLogger;
    this.retry = { ...retryPolicyFromEnv(), ...options.retry };
    const logger = this.logger;
    this.kafka = new Kafka({
      clientId: options.service,
      brokers: options.brokers,
      retry: { initialRetryTime: 200, retries: 8 },
      socketFactory: noDelaySocketFactory,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }: LogEntry) => {
          const { message, ...rest } = log;
          if (level <= logLevel.ERROR) logger.error(`kafkajs: ${message}`, rest);
          else logger.warn(`kafkajs: ${message}`, rest);
        },
    });
    this.marks = new CrashMarks({
      kafka: this.kafka,
      service: options.service,
      sender: this.sender,
      ensureTopic: () => this.ensureTopics([CrashMarksTopic]),
      logger,
    });
    this.producer = new BusProducer({ service: options.service, brokers: options.brokers });
    this.deadLetters = new DeadLetterWriter(this.sender, (t) => this.limitOf(t), logger);
  }

  get service(): string {
    return this.options.service;
  }

  /** A topic's max.message.bytes as this bus knows it (Kafka's default for a topic it was not told of). */
  limitOf(topic: string): number {
    return this.limits.get(topic) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  }

  /**
   * Creates every catalogued topic that does not exist yet, with its retention,
   * clean-up policy and max.message.bytes; safe to call from every service at
   * start-up. Of a topic that exists, the bus keeps to its actual
   * max.message.bytes where that is smaller than the spec's.
   */
  async ensureTopics(specs: TopicSpec[] = AllTopics): Promise<void> {
    for (const s of specs) this.limits.set(s.name, maxMessageBytesOf(s));
    // (no wait between retries above 5 s: a broker that comes back is found within seconds)
    const admin = this.kafka.admin({
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    });
    await this.connectWhenReachable(admin);
    try {
      const { created, smaller } = await createMissingTopics(admin, specs, this.logger);
      for (const [topic, bytes] of smaller) this.limits.set(topic, bytes);
      if (created.length) this.logger.log('topics created', { topics: created });
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Connects an admin client, however long the brokers stay unreachable (a service started while
   * Kafka is down waits for it rather than exiting); any other failure, or shutdown, ends the wait.
   */
  private async connectWhenReachable(admin: Admin): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await admin.connect();
      } catch (err) {
        if (this.stopping || !isUnreachable(err)) throw err;
        this.logger.warn('Kafka unreachable; trying again', {
          attempt,
          error: (err as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000 * attempt, 10_000)));
      }
    }
  }

  private async sendBatch(records: OutgoingRecord[]): Promise<void> {
    await this.producer.send(records);
  }

  /**
   * Publishes records with acks=all through the idempotent producer, with the
   * standard headers. A record larger than its topic's max.message.bytes is
   * refused with RecordTooLargeError and nothing of the call is published.
   */
  async publish(...records: Outgoing<DescMessage>[]): Promise<void> {
    const time = new Date().toISOString();
    await this.submit(
      records.map((r) => {
        const event =
          r.topic.schema.typeName === ConversationEventSchema.typeName
            ? (r.value as ConversationEvent)
            : undefined;
        // A conversation event's record is known by the event's own id.
        const eventId = r.eventId ?? (event?.eventId || randomUUID());
        const headers = encodeHeaders({
          eventId,
          eventType: event ? eventTypeName(event) : r.topic.schema.typeName,
          schemaVersion: SCHEMA_VERSION,
          correlationId: r.correlationId ?? eventId,
          causationId: r.causationId ?? '',
          time,
          producer: this.options.service,
        });
        return {
          topic: r.topic.name,
          key: r.key,
          value: Buffer.from(toBinary(r.topic.schema, r.value)),
          headers,
        };
      }),
    );
    this.stats.published += records.length;
  }

  /** Publishes raw bytes (for tests and tools that need to put arbitrary data on a topic). */
  async publishRaw(
    topic: string,
    key: string,
    value: Buffer,
    headers: Record<string, string> = {},
  ): Promise<void> {
    await this.submit([{ topic, key, value, headers }]);
  }

  /**
   * Sends records, or, inside the handler of an exactly-once consumer, holds them for the
   * transaction that commits the handled record (outbox.ts): then this resolves at once, and
   * the records are visible to read-committed consumers once the transaction commits.
   */
  private async submit(records: OutgoingRecord[]): Promise<void> {
    const capture = currentCapture();
    if (!capture) return this.sender.submit(records);
    const refused = this.sender.refusal(records);
    if (refused) throw refused;
    capture.records.push(...records);
  }

  /**
   * Consumes one topic in a consumer group. No record stops the consumer:
   * undecodable or invalid ones go to the topic's dead-letter topic with the
   * reason and original bytes (truncated if they would not fit); a failing
   * handler is retried within the retry policy, then its record is
   * dead-lettered; a record the group crashed on is dead-lettered when the
   * group comes back. A consumer that cannot join its group, again and again, ends the process
   * (via onFatal) so that a supervisor restarts it.
   */
  async consume<Desc extends DescMessage>(options: ConsumeOptions<Desc>): Promise<ConsumerHandle> {
    if (!this.limits.has(options.topic.name))
      this.limits.set(options.topic.name, maxMessageBytesOf(options.topic));
    const consumer = new GroupConsumer<Desc>(
      {
        brokers: this.options.brokers,
        service: this.options.service,
        instanceId: this.options.instanceId,
        logger: this.logger,
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 30_000,
        slowHandlerMs:
          this.options.slowHandlerMs ?? Number(process.env.KAFKA_SLOW_HANDLER_MS ?? 10_000),
        retry: this.retry,
        deadLetters: this.deadLetters,
        marks: this.marks,
        stats: this.stats,
        limitOf: (topic) => this.limitOf(topic),
        stopping: () => this.stopping,
        crashedForGood: (c, error) => void this.crashPath(error, [c]),
      },
      options,
    );
    this.consumers.set(consumer.groupId, consumer as unknown as GroupConsumer);
    consumer.start();
    return {
      punctuate: (partition, after, work) => consumer.punctuate(partition, after, work),
      idleAt: (partition) => consumer.idleAt(partition),
    };
  }

  /**
   * The crash path, which a consumer crashing for good takes; also for a
   * service that must stop for a reason of its own (an uncaught exception).
   * Leaves a crash mark for each record a consumer of this process is failing
   * on (so that the restarted consumer dead-letters it instead of crashing on
   * it again), turns health red, then calls onFatal (by default: exit 1).
   */
  crash(reason: Error): Promise<void> {
    return this.crashPath(reason, [...this.consumers.values()]);
  }

  private crashPath(reason: Error, crashed: GroupConsumer[]): Promise<void> {
    this.crashing ??= (async () => {
      for (const c of crashed) c.status = 'crashed';
      const marks = crashed.flatMap((c) => c.crashMarks(reason));
      try {
        await withTimeout(this.marks.put(marks), 10_000);
        if (marks.length) this.logger.warn('crash marks left', { marks: marks.length });
      } catch (err) {
        this.logger.error('crash marks not written', { error: (err as Error).message });
      }
      (this.options.onFatal ?? defaultFatal)(reason);
    })();
    return this.crashing;
  }

  /**
   * Health. ok: every consumer is consuming. ready: every consumer has joined its group once and
   * none has stopped; one that joins again after a broker died (rejoining) leaves the process
   * ready, since it serves HTTP meanwhile and its records wait in Kafka.
   */
  health(): { ok: boolean; ready: boolean; consumers: Record<string, ConsumerStatus> } {
    const consumers: Record<string, ConsumerStatus> = {};
    let ok = true;
    let ready = true;
    for (const [group, { status }] of this.consumers) {
      consumers[group] = status;
      if (status !== 'running') ok = false;
      if (status !== 'running' && status !== 'rejoining') ready = false;
    }
    return { ok, ready, consumers };
  }

  /** Graceful shutdown: consumers stop after their current message and commit what was processed. */
  /**
   * Work a user of the bus runs outside any consumer's records that reads or writes through it (a
   * log consumer's catch-up of a quiet partition): `close` waits for it, at most
   * BACKGROUND_WAIT_MS, once the consumers have stopped. Returns `work`.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.background.add(work);
    const done = () => void this.background.delete(work);
    work.then(done, done);
    return work;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.consumers.values()].map((c) => c.stop()));
    // (What has not finished by then is left to end with the process.)
    await withTimeout(Promise.allSettled([...this.background]), BACKGROUND_WAIT_MS).catch(
      () => undefined,
    );
    await this.producer.close();
  }
}

/** Whether a kafkajs error (or the one its retries ended on) is a broker that could not be reached. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined; e;) {
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSBrokerNotFound') return true;
    e = e.cause as typeof e;
  }
  return false;
}

function defaultFatal(reason: Error): void {
  console.error(
    JSON.stringify({
      level: 'fatal',
      msg: 'consumer stopped for good; exiting so the supervisor restarts the service',
      error: reason.message,
    }),
  );
  process.exit(1);
}

/** What a service may ask of a consumer it started. */
export interface ConsumerHandle {
  /**
   * Exactly-once consumers: runs `work` for a partition outside any record (a timer's); what it
   * publishes goes out in that partition's next transaction, with offsets past `after` (the last
   * record the work's state saw), fenced by the group's generation, and `afterTransaction` steps
   * run once that has committed. Throws for a consumer that is not exactly-once.
   */
  punctuate<R>(partition: number, after: bigint, work: () => Promise<R>): Promise<R>;
  /**
   * The offset of the next record of an assigned partition that is quiet (nothing of it fetched
   * and waiting, nothing being handled, its position read for this assignment), else undefined:
   * every record before it is handled, and the next one the member gets starts there.
   */
  idleAt(partition: number): bigint | undefined;
}
