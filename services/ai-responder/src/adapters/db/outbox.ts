import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { asc, inArray, isNull, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Bus, Topics } from '@support/bus';
import {
  create,
  fromBinary,
  KnowledgeEventSchema,
  toBinary,
  type KnowledgeEvent,
  type MessageInitShape,
} from '@support/contracts';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../../config.js';
import { DATABASE, type KbDatabase } from './database.js';
import { kbOutbox } from './schema.js';

type Db = NodePgDatabase<Record<string, unknown>>;
type Payload = MessageInitShape<typeof KnowledgeEventSchema>['payload'];

/** A knowledge event with its deterministic id (a repeat of the same cause is the same event) and its key. */
export interface OutgoingKnowledgeEvent {
  key: string;
  event: KnowledgeEvent;
}

export function knowledgeEvent(
  eventId: string,
  key: string,
  payload: Payload,
): OutgoingKnowledgeEvent {
  return {
    key,
    event: create(KnowledgeEventSchema, {
      eventId,
      occurredAt: new Date().toISOString(),
      payload,
    }),
  };
}

/** Writes events into the outbox inside the caller's transaction; an event id already there is kept as it was. */
export async function enqueue(tx: Db, events: OutgoingKnowledgeEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx
    .insert(kbOutbox)
    .values(
      events.map((e) => ({
        eventId: e.event.eventId,
        key: e.key,
        payload: Buffer.from(toBinary(KnowledgeEventSchema, e.event)).toString('base64'),
      })),
    )
    .onConflictDoNothing();
}

/**
 * Relays the outbox to knowledge.events: after every write through this
 * process (flush) and on a timer (what a replica that died left behind).
 * Rows are claimed with SKIP LOCKED, so replicas never publish one twice at
 * the same time; a crash after publishing and before marking publishes the
 * same event (same id) again, which consumers apply once.
 */
@Injectable()
export class KnowledgeOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;

  constructor(
    @Inject(DATABASE) private readonly database: KbDatabase,
    private readonly bus: Bus,
    @Inject(CONFIG) private readonly config: Pick<Config, 'KB_OUTBOX_POLL_MS'>,
    private readonly logger: JsonLogger,
  ) {}

  private get db(): Db {
    return this.database.db as unknown as Db;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.KB_OUTBOX_POLL_MS);
    this.timer.unref();
    void this.flush();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Publishes what is waiting; concurrent calls share one run (and one more after it). */
  async flush(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          total += await this.relayBatch();
        } while (this.again);
      } catch (err) {
        this.logger.warn('knowledge outbox relay failed; retried on the next tick', {
          error: (err as Error).message,
        });
      } finally {
        this.running = undefined;
      }
      return total;
    })();
    return this.running;
  }

  private async relayBatch(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(kbOutbox)
        .where(isNull(kbOutbox.publishedAt))
        .orderBy(asc(kbOutbox.seq))
        .limit(200)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      await this.bus.publish(
        ...rows.map((r) => ({
          topic: Topics.knowledgeEvents,
          key: r.key,
          value: fromBinary(KnowledgeEventSchema, Buffer.from(r.payload, 'base64')),
          eventId: r.eventId,
        })),
      );
      await tx
        .update(kbOutbox)
        .set({ publishedAt: sql`now()` })
        .where(
          inArray(
            kbOutbox.seq,
            rows.map((r) => r.seq),
          ),
        );
      return rows.length;
    });
  }
}
