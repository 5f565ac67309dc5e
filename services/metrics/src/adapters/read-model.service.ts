import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { backgroundFetchWaitMs, Bus, Topics, type Incoming } from '@support/bus';
import type { ConversationEventSchema } from '@support/contracts';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import type { Overview } from '../domain/api.js';
import { parseQuery } from '../domain/query.js';
import { invalidKnowledgeReason, invalidReason } from '../domain/read-model.js';
import { queryOverview } from './db/queries.js';
import {
  applyConversationEventsToDatabase,
  applyKnowledgeEventToDatabase,
  openMetricsDatabase,
  type MetricsDatabase,
} from './db/store.js';

const appliedCounter = new Counter({
  name: 'metrics_events_total',
  help: 'Events seen by the read model: applied, or skipped as a repeat, by topic',
  labelNames: ['result', 'topic'],
});

const recordTime = (time: string | undefined): Date =>
  time && !Number.isNaN(Date.parse(time)) ? new Date(time) : new Date();

/** Keeps the read model in PostgreSQL (schema "metrics") up to date from the log and the knowledge events. */
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
    // A partition's waiting events are applied in one transaction (handleBatch); a record the
    // batch cannot take is applied alone (handle), with the bus's retries and dead letters.
    const apply = async (records: Incoming<typeof ConversationEventSchema>[]) => {
      const applied = await applyConversationEventsToDatabase(
        this.db,
        records.map((r) => ({ event: r.value, fallbackAt: recordTime(r.meta.time) })),
      );
      appliedCounter.inc({ result: 'applied', topic: Topics.events.name }, applied);
      appliedCounter.inc({ result: 'repeat', topic: Topics.events.name }, records.length - applied);
      this.logger.debug('events applied', {
        partition: records[0].partition,
        fromOffset: records[0].offset,
        applied,
        repeats: records.length - applied,
      });
    };
    await this.bus.consume({
      group: 'read-model',
      topic: Topics.events,
      fromBeginning: true,
      // A dashboard's figures a quarter of a second later, in larger batches, for far fewer
      // fetches than one per record of the log.
      fetchWaitMs: backgroundFetchWaitMs,
      validate: invalidReason,
      handle: (record) => apply([record]),
      handleBatch: apply,
    });
    // Its own group: the knowledge topic is read at its own pace, and its events commute with the log's.
    await this.bus.consume({
      group: 'read-model-knowledge',
      topic: Topics.knowledgeEvents,
      fromBeginning: true,
      validate: invalidKnowledgeReason,
      handle: async (record) => {
        const applied = await applyKnowledgeEventToDatabase(
          this.db,
          record.value,
          recordTime(record.meta.time),
        );
        appliedCounter.inc({ result: applied ? 'applied' : 'repeat', topic: record.topic });
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database?.pool.end().catch(() => undefined);
  }
}

/** How long the operators' gauges reuse one computation: scrapes never wait for a query. */
const GAUGE_TTL_MS = 30_000;

/** The instance the gauges read (the registry is per process, the service per application). */
let gaugeSource: (() => Promise<Overview | undefined>) | undefined;

function defineGauge(name: string, help: string, value: (o: Overview) => number | null): void {
  new Gauge({
    name,
    help,
    async collect() {
      const overview = await gaugeSource?.();
      this.set((overview && value(overview)) ?? 0);
    },
  });
}

defineGauge(
  'metrics_automation_rate_24h',
  'Conversations started in the last 24 h resolved by the AI without a handoff (share)',
  (o) => o.automation.rate,
);
defineGauge(
  'metrics_handoff_rate_24h',
  'Conversations started in the last 24 h with a handoff (share)',
  (o) => o.handoff.rate,
);
defineGauge(
  'metrics_false_escalation_rate_24h',
  'Handoffs of the last 24 h the AI could have handled (share)',
  (o) => o.falseEscalation.rate,
);
defineGauge(
  'metrics_csat_ai_only_24h',
  'Mean CSAT of conversations of the last 24 h without a handoff (0: no rating)',
  (o) => o.csat.aiOnly.average,
);
defineGauge(
  'metrics_csat_handed_off_24h',
  'Mean CSAT of handed-off conversations of the last 24 h (0: no rating)',
  (o) => o.csat.handedOff.average,
);
defineGauge(
  'metrics_wait_to_accept_p90_seconds_24h',
  'p90 of the wait from handoff to an agent accepting, last 24 h (0: none)',
  (o) => o.latency.waitToAccept.p90,
);

/**
 * Prometheus gauges over the last 24 hours, from the same overview query as the API. A scrape
 * answers from the last computation and, when that is older than 30 s, starts a new one in the
 * background; only the very first scrape waits for one.
 */
@Injectable()
export class MetricsGauges implements OnApplicationBootstrap {
  private last?: { at: number; overview: Overview };
  private running?: Promise<void>;

  constructor(
    private readonly readModel: ReadModelService,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    gaugeSource = () => this.current();
  }

  private refresh(): Promise<void> {
    this.running ??= (async () => {
      try {
        const from = new Date(Date.now() - 24 * 3600_000).toISOString();
        const { query } = parseQuery({ from });
        const overview = await queryOverview(
          this.readModel.db,
          query,
          this.config.QUIET_WINDOW_SECONDS / 60,
        );
        this.last = { at: Date.now(), overview };
      } catch (err) {
        this.logger.warn('metrics gauges not computed', { error: (err as Error).message });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async current(): Promise<Overview | undefined> {
    if (!this.last) await this.refresh();
    else if (Date.now() - this.last.at > GAUGE_TTL_MS) void this.refresh();
    return this.last?.overview;
  }
}
