/**
 * What a service keeps in Redis from a topic (the desk's briefings, ingest's chat history) comes
 * back by itself when Redis loses it: the topic is the truth, Redis a copy.
 *
 * A mark in Redis says the copy is whole. It is set after a restore, and goes with everything
 * else when Redis loses its data. Before each record is handled, and every few seconds, the mark
 * is looked at; without it the topic is read again from its beginning to its end of that moment
 * through `restore` (which writes the record's part of the copy, idempotently, with no side
 * effect such as a notification), then the mark is set. The live consumer goes on from where its
 * group stands: a record both restored and handled live is written twice, to the same result.
 */
import type { Redis } from 'ioredis';
import type { Bus, ConsumeOptions } from '@support/bus';
import type { DescMessage, MessageShape } from '@support/contracts';
import { replayTopic } from './replay.js';

export interface RestorableOptions<Desc extends DescMessage> extends ConsumeOptions<Desc> {
  /** Writes one record's part of the copy in Redis: idempotent, no side effect. */
  restore: (value: MessageShape<Desc>, key: string) => Promise<void>;
  /** How often the mark is looked at while no record comes (default 5 s). */
  checkEveryMs?: number;
}

/** A consumer group whose Redis copy of its topic restores itself (see above). */
export async function consumeRestorable<Desc extends DescMessage>(
  bus: Bus,
  redis: Redis,
  options: RestorableOptions<Desc>,
): Promise<RestorableCopy<Desc>> {
  const copy = new RestorableCopy(bus, redis, options);
  await bus.consume({
    ...options,
    handle: async (record) => {
      await copy.whole();
      await options.handle(record);
    },
  });
  copy.watch(options.checkEveryMs ?? 5_000);
  return copy;
}

export class RestorableCopy<Desc extends DescMessage> {
  private restoring?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** Restores done by this process (a test or a log line can tell). */
  restores = 0;

  constructor(
    private readonly bus: Bus,
    private readonly redis: Redis,
    private readonly options: RestorableOptions<Desc>,
  ) {}

  get markKey(): string {
    return `restorable:${this.bus.service}:${this.options.group}`;
  }

  /** Resolves once the copy is whole, restoring it first when its mark is gone. */
  async whole(): Promise<void> {
    if (this.restoring) return this.restoring;
    if ((await this.redis.exists(this.markKey)) === 1) return;
    this.restoring ??= this.restore().finally(() => (this.restoring = undefined));
    return this.restoring;
  }

  /** Looks at the mark every `ms` (a loss with no record coming is restored too); stops with the process. */
  watch(ms: number): void {
    this.timer = setInterval(() => {
      this.whole().catch((err: Error) =>
        this.bus.logger.warn('restoring a Redis copy of a topic failed; trying again', {
          group: this.options.group,
          topic: this.options.topic.name,
          error: err.message,
        }),
      );
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async restore(): Promise<void> {
    const started = Date.now();
    const { records, skipped } = await replayTopic(
      this.bus,
      this.options.topic,
      (value, _partition, _offset, key) => this.options.restore(value, key),
    );
    await this.redis.set(this.markKey, new Date().toISOString());
    this.restores++;
    if (records > 0)
      this.bus.logger.warn('a Redis copy of a topic was missing: restored from the topic', {
        group: this.options.group,
        topic: this.options.topic.name,
        records,
        skipped,
        ms: Date.now() - started,
      });
  }
}
