import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { Bus, Topics, type Incoming } from '@support/bus';
import type { ConversationEventSchema } from '@support/contracts';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import { invalidReason } from '../domain/conversation-row.js';
import { parseRange, summarize, type FieldIssue, type Summary } from '../domain/summary.js';
import {
  applyToDatabase,
  countSummary,
  openMetricsDatabase,
  type MetricsDatabase,
} from './db/store.js';

const appliedCounter = new Counter({
  name: 'metrics_events_total',
  help: 'Log events seen by the read model: applied, or skipped as a repeat',
  labelNames: ['result'],
});

export class InvalidQuery extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

/** Keeps the read model in PostgreSQL (schema "metrics") up to date from the log and answers summaries. */
@Injectable()
export class ReadModelService
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private database?: MetricsDatabase;

  constructor(
    private readonly bus: Bus,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  get db(): MetricsDatabase {
    if (!this.database) throw new Error('the metrics database is not open yet');
    return this.database;
  }

  async onModuleInit(): Promise<void> {
    this.database = await openMetricsDatabase(this.config.DATABASE_URL);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'read-model',
      topic: Topics.events,
      fromBeginning: true,
      validate: invalidReason,
      handle: (record) => this.apply(record),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database?.pool.end().catch(() => undefined);
  }

  private async apply(record: Incoming<typeof ConversationEventSchema>): Promise<void> {
    const event = record.value;
    const fallback =
      record.meta.time && !Number.isNaN(Date.parse(record.meta.time))
        ? new Date(record.meta.time)
        : new Date();
    const applied = await applyToDatabase(this.db, event, fallback);
    appliedCounter.inc({ result: applied ? 'applied' : 'repeat' });
    this.logger.debug(applied ? 'event applied' : 'repeated event skipped', {
      conversationId: event.conversationId,
      eventId: event.eventId,
      correlationId: record.meta.correlationId,
    });
  }

  /** Throws InvalidQuery naming the field when a date is not valid. */
  async summary(query: { from?: unknown; to?: unknown }): Promise<Summary> {
    const { range, issues } = parseRange(query);
    if (issues.length) throw new InvalidQuery(issues);
    return summarize(range, await countSummary(this.db, range));
  }
}
