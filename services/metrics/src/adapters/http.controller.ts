import {
  CanActivate,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import { API_KEYS, ApiKeyGuard, CONFIG, invalidInput } from '@support/service-kit';
import type { Config } from '../config.js';
import type { RuleWhatIf, Rules } from '../domain/api.js';
import {
  patchPolicy,
  ruleThreshold,
  suggestThreshold,
  type RuleThreshold,
} from '../domain/analysis.js';
import { csvRows, type FlatRow } from '../domain/flat.js';
import { parseQuery, type MetricsQuery } from '../domain/query.js';
import { summarize } from '../domain/summary.js';
import {
  queryBreakdown,
  queryChurnRisk,
  queryHandoffs,
  queryOverview,
  queryRules,
  queryTimeseries,
  queryTopics,
  ruleSamples,
} from './db/queries.js';
import { countSummary } from './db/store.js';
import { DeciderClient, DeciderUnavailable, type PolicyDocument } from './decider.client.js';
import { ReadModelService } from './read-model.service.js';

/** Reads need an API key only when METRICS_API_KEYS names some. */
@Injectable()
export class ReadKeyGuard implements CanActivate {
  constructor(
    @Inject(API_KEYS) private readonly keys: string[],
    private readonly apiKey: ApiKeyGuard,
  ) {}
  canActivate(context: ExecutionContext): boolean {
    return this.keys.length === 0 || this.apiKey.canActivate(context);
  }
}

interface Reply {
  setHeader(name: string, value: string): void;
}

/**
 * The analysts' API. Every GET takes from/to (ISO 8601, on the conversation's start), the segment
 * filters, and format=csv (or Accept: text/csv) for the same rows as CSV; bad input is a 400 naming
 * the field.
 */
@Controller('v1/metrics')
export class MetricsController {
  constructor(
    private readonly readModel: ReadModelService,
    private readonly decider: DeciderClient,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private parse(raw: Record<string, unknown>, accept: string | undefined): MetricsQuery {
    const { query, issues } = parseQuery(raw, accept ?? '');
    if (issues.length) throw invalidInput(issues);
    return query;
  }

  /** JSON, or the flat rows as CSV when asked. */
  private answer<T>(q: MetricsQuery, res: Reply, body: T, rows: (b: T) => FlatRow[]): T | string {
    if (!q.csv) return body;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    const flat = rows(body);
    const columns = [...new Set(flat.flatMap((r) => Object.keys(r)))];
    return stringify(flat, { header: true, columns: columns.length ? columns : ['empty'] });
  }

  /** Totals and rates over the conversations started in [from, to). */
  @Get('summary')
  @UseGuards(ReadKeyGuard)
  async summary(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse({ from: raw.from, to: raw.to, format: raw.format }, accept);
    const body = summarize(q.range, await countSummary(this.readModel.db, q.range));
    return this.answer(q, res, body, (b) => csvRows.single({ ...b }));
  }

  @Get('overview')
  @UseGuards(ReadKeyGuard)
  async overview(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryOverview(this.readModel.db, q, this.config.QUIET_WINDOW_SECONDS / 60);
    return this.answer(q, res, body, (b) => csvRows.single({ ...b }));
  }

  @Get('timeseries')
  @UseGuards(ReadKeyGuard)
  async timeseries(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryTimeseries(this.readModel.db, q);
    return this.answer(q, res, body, (b) => csvRows.list(b.points));
  }

  @Get('breakdown')
  @UseGuards(ReadKeyGuard)
  async breakdown(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryBreakdown(this.readModel.db, q);
    return this.answer(q, res, body, (b) => csvRows.list(b.rows));
  }

  @Get('handoffs')
  @UseGuards(ReadKeyGuard)
  async handoffs(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryHandoffs(this.readModel.db, q);
    return this.answer(q, res, body, csvRows.handoffs);
  }

  /** The decider's policy, or why it is not available (the rules answer without suggestions then). */
  private async policy(): Promise<{ policy?: PolicyDocument; error?: string }> {
    try {
      return { policy: await this.decider.policy() };
    } catch (err) {
      if (err instanceof DeciderUnavailable) return { error: err.message };
      throw err;
    }
  }

  @Get('rules')
  @UseGuards(ReadKeyGuard)
  async rules(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const { policy, error } = await this.policy();
    const body: Rules = {
      ...(await queryRules(this.readModel.db, q, (rule) =>
        policy ? ruleThreshold(policy.document, rule) : undefined,
      )),
      policyVersion: policy?.version ?? null,
      ...(error ? { policyError: error } : {}),
    };
    return this.answer(q, res, body, (b) => csvRows.list(b.rules));
  }

  @Get('topics')
  @UseGuards(ReadKeyGuard)
  async topics(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryTopics(this.readModel.db, q);
    return this.answer(q, res, body, csvRows.topics);
  }

  @Get('churn-risk')
  @UseGuards(ReadKeyGuard)
  async churnRisk(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Reply,
  ) {
    const q = this.parse(raw, accept);
    const body = await queryChurnRisk(this.readModel.db, q);
    return this.answer(q, res, body, csvRows.churn);
  }

  /**
   * Replays the rule's threshold suggestion (over the same query) with the decider's what-if: the
   * policy in force with thresholds.<name> = suggested. Always needs an API key: it makes the
   * decider replay the whole log. 404: no such rule fired; 409: it has no suggestion; 502: the
   * decider is unreachable.
   */
  @Post('rules/:rule/whatif')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  async whatIf(
    @Param('rule') rule: string,
    @Query() raw: Record<string, unknown>,
  ): Promise<RuleWhatIf> {
    const q = this.parse(raw, 'application/json');
    const fired = (await queryRules(this.readModel.db, q, () => undefined)).rules.find(
      (r) => r.rule === rule,
    );
    if (!fired)
      throw new NotFoundException(`no handoff in the range was triggered by rule "${rule}"`);
    let policy: PolicyDocument;
    try {
      policy = await this.decider.policy();
    } catch (err) {
      throw this.badGateway(err);
    }
    const threshold: RuleThreshold | undefined = ruleThreshold(policy.document, rule);
    const suggestion =
      threshold && suggestThreshold(rule, threshold, await ruleSamples(this.readModel.db, q, rule));
    if (!suggestion)
      throw new HttpException(
        {
          statusCode: 409,
          error: 'no_suggestion',
          message: threshold
            ? `the recorded handoffs of "${rule}" support no threshold change`
            : `rule "${rule}" compares with no named threshold in policy ${policy.version}`,
        },
        HttpStatus.CONFLICT,
      );
    const candidate = patchPolicy(policy.document, suggestion.threshold, suggestion.suggested);
    let report;
    try {
      report = await this.decider.whatIf(candidate, {
        from: q.range.from?.toISOString(),
        to: q.range.to?.toISOString(),
      });
    } catch (err) {
      throw this.badGateway(err);
    }
    return {
      rule,
      suggestion,
      candidateVersion: report.candidateVersion,
      recorded: pickRates(report.recorded),
      candidate: pickRates(report.candidate),
      flipped: { toHuman: report.flipped.toHuman.length, toAi: report.flipped.toAi.length },
    };
  }

  private badGateway(err: unknown): HttpException {
    if (!(err instanceof DeciderUnavailable)) throw err;
    return new HttpException(
      { statusCode: 502, error: 'decider_unavailable', message: err.message },
      HttpStatus.BAD_GATEWAY,
    );
  }
}

const pickRates = (r: {
  handoffs: number;
  handoffRate: number;
  conversationsHandedOff: number;
}) => ({
  handoffs: r.handoffs,
  handoffRate: r.handoffRate,
  conversationsHandedOff: r.conversationsHandedOff,
});
