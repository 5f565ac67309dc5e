/**
 * Protobuf over kafkajs, used directly rather than through the NestJS Kafka
 * transport: the transport parses values as JSON unless told otherwise, renames
 * client and group ids, and hides the crash and commit hooks this needs.
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachMessagePayload,
  type KafkaMessage,
  type Producer,
  type LogEntry,
  type ISocketFactory,
} from 'kafkajs';
import {
  create,
  fromBinary,
  toBinary,
  ConversationEventSchema,
  DeadLetterSchema,
  eventTypeName,
  SCHEMA_VERSION,
  type ConversationEvent,
  type DescMessage,
  type MessageShape,
} from '@support/contracts';
import { Histogram } from 'prom-client';
import { encodeHeaders, decodeHeaders, headersToStrings, type RecordMeta } from './headers.js';
import { AllTopics, type TopicSpec } from './topics.js';
import { BatchingSender, type OutgoingRecord } from './batching.js';

export interface BusLogger {
  log(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const consoleLogger: BusLogger = {
  log: (m, c) => console.log(JSON.stringify({ level: 'info', msg: m, ...c })),
  warn: (m, c) => console.warn(JSON.stringify({ level: 'warn', msg: m, ...c })),
  error: (m, c) => console.error(JSON.stringify({ level: 'error', msg: m, ...c })),
};

export interface BusOptions {
  /** Service name: the client id, the producer header and the consumer group prefix. */
  service: string;
  brokers: string[];
  logger?: BusLogger;
  /** Called when a consumer has crashed for good. Defaults to exiting the process with code 1. */
  onFatal?: (reason: Error) => void;
  /** Consumer session timeout: how soon a dead member's partitions move to a live one. */
  sessionTimeoutMs?: number;
}

/** A record this service wants to publish. */
export interface Outgoing<Desc extends DescMessage> {
  topic: TopicSpec<Desc>;
  key: string;
  value: MessageShape<Desc>;
  /** Deterministic for its cause, so redeliveries can be recognised. Default: random. */
  eventId?: string;
  correlationId?: string;
  causationId?: string;
}

/** A decoded record handed to a consumer's handler. */
export interface Incoming<Desc extends DescMessage> {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: MessageShape<Desc>;
  meta: RecordMeta;
  raw: KafkaMessage;
}

/** Thrown by a handler for a record that is well-formed protobuf but not acceptable: it is dead-lettered. */
export class InvalidRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRecordError';
  }
}

export interface ConsumeOptions<Desc extends DescMessage> {
  /** Consumer group, without the service prefix. */
  group: string;
  topic: TopicSpec<Desc>;
  fromBeginning?: boolean;
  partitionsConcurrently?: number;
  /** Returns a reason when the decoded value is not acceptable (the record is dead-lettered). */
  validate?: (value: MessageShape<Desc>) => string | undefined;
  handle: (record: Incoming<Desc>) => Promise<void>;
  /**
   * For compacted topics: a record with no value (a tombstone) deletes its key.
   * Without this handler a tombstone is an undecodable record and is dead-lettered.
   */
  onTombstone?: (key: string, meta: { partition: number; offset: string }) => Promise<void>;
  /** Called whenever the group (re)assigns partitions: drop any cache of what other members may have changed. */
  onAssignment?: () => void;
  /**
   * Commit the group's offsets (default true). False for a group that always reads from the
   * beginning (a replica following a compacted topic): nothing to resume, and the broker removes
   * an empty group without offsets at its next clean-up (offsets.retention.check.interval.ms, 10
   * minutes by default), where one with offsets stays for offsets.retention.minutes (7 days).
   */
  commitOffsets?: boolean;
}

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

const recordAge = new Histogram({
  name: 'bus_record_age_seconds',
  help: 'Time from a record being produced to its handler starting, by topic and consumer group',
  labelNames: ['topic', 'group'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
const handleTime = new Histogram({
  name: 'bus_handle_seconds',
  help: 'Time a handler took for one record, by topic and consumer group',
  labelNames: ['topic', 'group'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
});

export type ConsumerStatus = 'starting' | 'running' | 'stopped' | 'crashed';

export class Bus {
  readonly kafka: Kafka;
  private producer?: Producer;
  private producerReady?: Promise<Producer>;
  private readonly sender = new BatchingSender(async (records) => {
    const producer = await this.getProducer();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r);
      else byTopic.set(r.topic, [r]);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic.entries()].map(([topic, messages]) => ({
        topic,
        messages: messages.map(({ key, value, headers }) => ({ key, value, headers })),
      })),
    });
  });
  private readonly consumers = new Map<string, { consumer: Consumer; status: ConsumerStatus }>();
  private readonly logger: BusLogger;
  private stopping = false;
  /** Counters for Prometheus: dead letters written and records handled, per topic. */
  readonly stats = { deadLettered: 0, handled: 0, published: 0 };

  constructor(private readonly options: BusOptions) {
    this.logger = options.logger ?? consoleLogger;
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
  }

  get service(): string {
    return this.options.service;
  }

  /** Creates every catalogued topic that does not exist yet; safe to call from every service at start-up. */
  async ensureTopics(specs: TopicSpec[] = AllTopics): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length === 0) return;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: 1,
            configEntries: [
              { name: 'retention.ms', value: String(s.retentionMs) },
              { name: 'cleanup.policy', value: s.cleanupPolicy },
            ],
          })),
        });
      } catch (err) {
        // Another service may have created them at the same moment.
        if (!String((err as Error).message).includes('already exists')) throw err;
      }
      await waitForLeaders(
        admin,
        missing.map((s) => s.name),
      );
      this.logger.log('topics created', { topics: missing.map((s) => s.name) });
    } finally {
      await admin.disconnect();
    }
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (!this.producerReady) {
      // The default partitioner is murmur2, as in the Java client: partners in any language key alike.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producerReady = producer.connect().then(() => {
        this.producer = producer;
        return producer;
      });
    }
    return this.producerReady;
  }

  /** Publishes records with acks=all through the idempotent producer, with the standard headers. */
  async publish(...records: Outgoing<DescMessage>[]): Promise<void> {
    const time = new Date().toISOString();
    await this.sender.submit(
      records.map((r) => {
        const eventId = r.eventId ?? randomUUID();
        const headers = encodeHeaders({
          eventId,
          eventType:
            r.topic.schema.typeName === ConversationEventSchema.typeName
              ? eventTypeName(r.value as ConversationEvent)
              : r.topic.schema.typeName,
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
    await this.sender.submit([{ topic, key, value, headers }]);
  }

  /**
   * Consumes one topic in a consumer group. Undecodable or invalid records go
   * to the topic's dead-letter topic with the reason and original bytes; other
   * handler errors are retried by kafkajs, and a consumer that crashes for good
   * ends the process (via onFatal) so that a supervisor restarts it.
   */
  async consume<Desc extends DescMessage>(options: ConsumeOptions<Desc>): Promise<Consumer> {
    const groupId = `${this.options.service}.${options.group}`;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 4)),
      rebalanceTimeout: 60_000,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300 },
    });
    const entry = { consumer, status: 'starting' as ConsumerStatus };
    this.consumers.set(groupId, entry);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      entry.status = 'running';
      options.onAssignment?.();
    });
    consumer.on(consumer.events.STOP, () => {
      if (entry.status !== 'crashed') entry.status = 'stopped';
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.logger.error('consumer crashed', { groupId, error: error.message, restart });
      if (!restart && !this.stopping) {
        entry.status = 'crashed';
        (this.options.onFatal ?? defaultFatal)(error);
      }
    });
    await consumer.connect();
    await consumer.subscribe({
      topic: options.topic.name,
      fromBeginning: options.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: options.commitOffsets ?? true,
      // Offsets are committed at most once a second (and on shutdown), not after every
      // batch: a crash replays at most that second, which redelivery handling absorbs.
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently:
        options.partitionsConcurrently ?? Number(process.env.KAFKA_PARTITIONS_CONCURRENTLY ?? 6),
      eachMessage: (payload) => this.handleOne(options, groupId, payload),
    });
    return consumer;
  }

  private async handleOne<Desc extends DescMessage>(
    options: ConsumeOptions<Desc>,
    groupId: string,
    { topic, partition, message, heartbeat }: EachMessagePayload,
  ): Promise<void> {
    let value: MessageShape<Desc>;
    const key = message.key?.toString('utf8') ?? '';
    if (!message.value && options.onTombstone) {
      await options.onTombstone(key, { partition, offset: message.offset });
      return;
    }
    try {
      if (!message.value) throw new Error('empty value');
      value = fromBinary(options.topic.schema, message.value);
    } catch (err) {
      await this.deadLetter(
        options.topic,
        groupId,
        partition,
        message,
        `undecodable ${options.topic.schema.typeName}: ${(err as Error).message}`,
      );
      return;
    }
    const invalid = options.validate?.(value);
    if (invalid) {
      await this.deadLetter(
        options.topic,
        groupId,
        partition,
        message,
        `invalid ${options.topic.schema.typeName}: ${invalid}`,
      );
      return;
    }
    const labels = { topic, group: groupId };
    recordAge.observe(labels, Math.max(0, Date.now() - Number(message.timestamp)) / 1000);
    const stopTimer = handleTime.startTimer(labels);
    try {
      await options.handle({
        topic,
        partition,
        offset: message.offset,
        key,
        value,
        meta: decodeHeaders(message.headers),
        raw: message,
      });
      stopTimer();
      this.stats.handled++;
    } catch (err) {
      if (err instanceof InvalidRecordError) {
        await this.deadLetter(options.topic, groupId, partition, message, err.message);
        return;
      }
      this.logger.warn('handler failed; kafkajs will retry', {
        groupId,
        topic,
        partition,
        offset: message.offset,
        error: (err as Error).message,
      });
      await heartbeat().catch(() => undefined);
      throw err;
    }
  }

  private async deadLetter(
    spec: TopicSpec,
    groupId: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
  ): Promise<void> {
    if (!spec.deadLetter) {
      this.logger.error('dropping bad record of a dead-letter topic', { topic: spec.name, reason });
      return;
    }
    const letter = create(DeadLetterSchema, {
      originalTopic: spec.name,
      partition,
      offset: message.offset,
      originalKey: message.key ? new Uint8Array(message.key) : new Uint8Array(),
      originalValue: message.value ? new Uint8Array(message.value) : new Uint8Array(),
      originalHeaders: headersToStrings(message.headers),
      reason,
      consumerGroup: groupId,
      failedAt: new Date().toISOString(),
    });
    await this.sender.submit([
      {
        topic: spec.deadLetter,
        key: message.key,
        value: Buffer.from(toBinary(DeadLetterSchema, letter)),
        headers: {
          'event-type': DeadLetterSchema.typeName,
          reason,
          'original-topic': spec.name,
          'consumer-group': groupId,
        },
      },
    ]);
    this.stats.deadLettered++;
    this.logger.warn('record dead-lettered', {
      topic: spec.name,
      partition,
      offset: message.offset,
      reason,
      deadLetter: spec.deadLetter,
    });
  }

  /** Health: every consumer has joined its group and none has crashed. */
  health(): { ok: boolean; consumers: Record<string, ConsumerStatus> } {
    const consumers: Record<string, ConsumerStatus> = {};
    let ok = true;
    for (const [group, { status }] of this.consumers) {
      consumers[group] = status;
      if (status !== 'running') ok = false;
    }
    return { ok, consumers };
  }

  /** Graceful shutdown: consumers stop after their current message and commit what was processed. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(
      [...this.consumers.values()].map(({ consumer }) => consumer.disconnect()),
    );
    if (this.producer) await this.producer.disconnect();
  }
}

/** Waits until every partition of the topics has a leader that serves it (new topics take a moment in KRaft). */
async function waitForLeaders(
  admin: ReturnType<Kafka['admin']>,
  topics: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
        return;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics not ready after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
