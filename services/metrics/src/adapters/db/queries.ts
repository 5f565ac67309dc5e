import { sql, type SQL } from 'drizzle-orm';
import type {
  Breakdown,
  ChurnRisk,
  ChurnRiskRow,
  CsatStat,
  Handoffs,
  Overview,
  Percentiles,
  RuleRow,
  Rules,
  SegmentName,
  Timeseries,
  TimeseriesPoint,
  TopicRow,
  Topics,
} from '../../domain/api.js';
import {
  churnReasons,
  percentiles,
  ratio,
  round4,
  suggestThreshold,
  trend,
  triggerOf,
  type RuleSample,
  type RuleThreshold,
} from '../../domain/analysis.js';
import { UNKNOWN_SEGMENT, type MetricsQuery } from '../../domain/query.js';
import type { TriggerRecord } from '../../domain/read-model.js';
import type { MetricsDatabase } from './store.js';

/**
 * The analysts' queries over the read model. Every metric is over the conversations that started
 * in [from, to) and match the segment filters; a handoff counts with its conversation. Percentiles
 * are PostgreSQL's percentile_cont (interpolated), in seconds.
 */

const COLUMNS: Record<SegmentName, string> = {
  channel: 'channel',
  tier: 'tier',
  language: 'language',
  topic: 'topic',
  policyVersion: 'policy_version',
};

/** The WHERE clause on conversations (alias c). */
function conversationWhere(q: MetricsQuery): SQL {
  const parts: SQL[] = [sql`true`];
  if (q.range.from) parts.push(sql`c.started_at >= ${q.range.from.toISOString()}::timestamptz`);
  if (q.range.to) parts.push(sql`c.started_at < ${q.range.to.toISOString()}::timestamptz`);
  for (const [name, value] of Object.entries(q.segments) as [SegmentName, string][])
    parts.push(sql`${sql.raw(`c.${COLUMNS[name]}`)} = ${value}`);
  return sql.join(parts, sql` and `);
}

const bucket = (interval: string) =>
  sql.raw(
    `to_char(date_trunc('${interval}', c.started_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
  );
const segmentKey = (name: SegmentName) => sql.raw(`c.${COLUMNS[name]}`);
const displayKey = (key: string) => (key === '' ? UNKNOWN_SEGMENT : key);

async function rows<T>(database: MetricsDatabase, query: SQL): Promise<T[]> {
  const result = await database.db.execute(query);
  return result.rows as T[];
}

/** Without a key, one row even over no conversations (a GROUP BY over nothing has no rows). */
const groupByKey = (key: SQL | null) => (key ? sql`group by 1` : sql``);

const PCT = sql.raw('array[0.5, 0.9, 0.99]');

interface ConversationAggregate {
  key: string;
  conversations: number;
  handoffs: number;
  handed_off: number;
  ai_resolved: number;
  ai_assumed: number;
  csat_requested: number;
  csat_responses: number;
  csat_avg: number | null;
  csat_satisfied: number;
  ai_csat_requested: number;
  ai_csat_responses: number;
  ai_csat_avg: number | null;
  ai_csat_satisfied: number;
  ho_csat_requested: number;
  ho_csat_responses: number;
  ho_csat_avg: number | null;
  ho_csat_satisfied: number;
  missed_base: number;
  missed_reopened: number;
  missed_rated: number;
  missed_total: number;
  tth_count: number;
  tth: number[] | null;
}

interface HandoffAggregate {
  key: string;
  handoffs: number;
  marked: number;
  matched: number;
  false_total: number;
  trigger_count: number;
  trigger: number[] | null;
  accept_count: number;
  accept: number[] | null;
  reply_count: number;
  reply: number[] | null;
}

function csatColumns(prefix: string, where: string): SQL {
  const f = (extra: string) => sql.raw(`filter (where ${where}${extra})`);
  return sql.join(
    [
      sql`(count(*) ${f(' and c.csat_requested')})::int as ${sql.raw(`${prefix}csat_requested`)}`,
      sql`(count(*) ${f(' and c.csat_score is not null')})::int as ${sql.raw(`${prefix}csat_responses`)}`,
      sql`(avg(c.csat_score) ${f('')})::float8 as ${sql.raw(`${prefix}csat_avg`)}`,
      sql`(count(*) ${f(' and c.csat_score >= 4')})::int as ${sql.raw(`${prefix}csat_satisfied`)}`,
    ],
    sql`, `,
  );
}

async function conversationAggregates(
  database: MetricsDatabase,
  q: MetricsQuery,
  key: SQL | null,
): Promise<ConversationAggregate[]> {
  return rows(
    database,
    sql`select ${key ?? sql`''`} as key,
      count(*)::int as conversations,
      coalesce(sum(c.handoffs), 0)::int as handoffs,
      (count(*) filter (where c.handoffs > 0))::int as handed_off,
      (count(*) filter (where c.resolved_as = 'ai' and c.handoffs = 0))::int as ai_resolved,
      (count(*) filter (where c.resolved_as = 'ai' and c.handoffs = 0 and c.assumed))::int as ai_assumed,
      ${csatColumns('', 'true')}, ${csatColumns('ai_', 'c.handoffs = 0')}, ${csatColumns('ho_', 'c.handoffs > 0')},
      (count(*) filter (where c.ai_resolved_at is not null))::int as missed_base,
      (count(*) filter (where c.ai_resolved_at is not null and c.reopened_after_ai))::int as missed_reopened,
      (count(*) filter (where c.ai_resolved_at is not null and c.csat_score <= 2))::int as missed_rated,
      (count(*) filter (where c.ai_resolved_at is not null and (c.reopened_after_ai or c.csat_score <= 2)))::int as missed_total,
      count(c.first_handoff_at)::int as tth_count,
      percentile_cont(${PCT}) within group (order by extract(epoch from c.first_handoff_at - coalesce(c.first_message_at, c.started_at))) as tth
    from metrics.conversations c
    where ${conversationWhere(q)}
    ${groupByKey(key)}`,
  );
}

async function handoffAggregates(
  database: MetricsDatabase,
  q: MetricsQuery,
  key: SQL | null,
): Promise<HandoffAggregate[]> {
  const trigger = sql.raw('extract(epoch from h.requested_at - h.trigger_at)');
  const accept = sql.raw('extract(epoch from h.accepted_at - h.requested_at)');
  const reply = sql.raw('extract(epoch from h.first_reply_at - h.requested_at)');
  return rows(
    database,
    sql`select ${key ?? sql`''`} as key,
      count(*)::int as handoffs,
      (count(*) filter (where h.false_marked))::int as marked,
      (count(*) filter (where h.matched_article_id <> ''))::int as matched,
      (count(*) filter (where h.false_marked or h.matched_article_id <> ''))::int as false_total,
      count(${trigger})::int as trigger_count,
      percentile_cont(${PCT}) within group (order by ${trigger}) as trigger,
      count(${accept})::int as accept_count,
      percentile_cont(${PCT}) within group (order by ${accept}) as accept,
      count(${reply})::int as reply_count,
      percentile_cont(${PCT}) within group (order by ${reply}) as reply
    from metrics.handoffs h join metrics.conversations c on c.conversation_id = h.conversation_id
    where h.requested_at is not null and ${conversationWhere(q)}
    ${groupByKey(key)}`,
  );
}

interface ReviewAggregate {
  reviews: number;
  approved: number;
  edited: number;
  taken_over: number;
  review_count: number;
  review: number[] | null;
}

/** The reviews of the conversations the query selects: outcomes and time to review. */
async function reviewAggregates(
  database: MetricsDatabase,
  q: MetricsQuery,
): Promise<ReviewAggregate> {
  const took = sql.raw('extract(epoch from r.completed_at - r.requested_at)');
  const [found] = await rows<ReviewAggregate>(
    database,
    sql`select count(*)::int as reviews,
      (count(*) filter (where r.outcome = 'approved'))::int as approved,
      (count(*) filter (where r.outcome = 'edited'))::int as edited,
      (count(*) filter (where r.outcome = 'taken_over'))::int as taken_over,
      count(${took})::int as review_count,
      percentile_cont(${PCT}) within group (order by ${took}) as review
    from metrics.reviews r join metrics.conversations c on c.conversation_id = r.conversation_id
    where ${conversationWhere(q)}`,
  );
  return (
    found ?? { reviews: 0, approved: 0, edited: 0, taken_over: 0, review_count: 0, review: null }
  );
}

const EMPTY_HANDOFFS: HandoffAggregate = {
  key: '',
  handoffs: 0,
  marked: 0,
  matched: 0,
  false_total: 0,
  trigger_count: 0,
  trigger: null,
  accept_count: 0,
  accept: null,
  reply_count: 0,
  reply: null,
};

function csat(
  requested: number,
  responses: number,
  average: number | null,
  satisfied: number,
): CsatStat {
  return {
    requested,
    responses,
    average: responses > 0 && average !== null ? Math.round(average * 100) / 100 : null,
    satisfied: ratio(satisfied, responses),
  };
}

const avgOrNull = (responses: number, average: number | null) =>
  responses > 0 && average !== null ? Math.round(average * 100) / 100 : null;

/** GET /v1/metrics/overview */
export async function queryOverview(
  database: MetricsDatabase,
  q: MetricsQuery,
  quietWindowMinutes: number,
): Promise<Overview> {
  const [c, h, r] = await Promise.all([
    conversationAggregates(database, q, null),
    handoffAggregates(database, q, null),
    reviewAggregates(database, q),
  ]);
  const a = c[0]!;
  const ho = h[0] ?? EMPTY_HANDOFFS;
  const pct = (count: number, values: number[] | null): Percentiles => percentiles(count, values);
  return {
    filters: q.filters,
    conversations: a.conversations,
    automation: {
      resolved: a.ai_resolved,
      confirmed: a.ai_resolved - a.ai_assumed,
      assumed: a.ai_assumed,
      rate: ratio(a.ai_resolved, a.conversations),
      quietWindowMinutes,
    },
    handoff: {
      conversations: a.handed_off,
      handoffs: ho.handoffs,
      rate: ratio(a.handed_off, a.conversations),
    },
    csat: {
      overall: csat(a.csat_requested, a.csat_responses, a.csat_avg, a.csat_satisfied),
      aiOnly: csat(a.ai_csat_requested, a.ai_csat_responses, a.ai_csat_avg, a.ai_csat_satisfied),
      handedOff: csat(a.ho_csat_requested, a.ho_csat_responses, a.ho_csat_avg, a.ho_csat_satisfied),
    },
    falseEscalation: {
      handoffs: ho.handoffs,
      marked: ho.marked,
      matchedArticle: ho.matched,
      total: ho.false_total,
      rate: ratio(ho.false_total, ho.handoffs),
    },
    missedEscalation: {
      aiResolved: a.missed_base,
      reopened: a.missed_reopened,
      ratedBadly: a.missed_rated,
      total: a.missed_total,
      rate: ratio(a.missed_total, a.missed_base),
    },
    latency: {
      timeToHandoff: pct(a.tth_count, a.tth),
      timeToHandoffFromTrigger: pct(ho.trigger_count, ho.trigger),
      waitToAccept: pct(ho.accept_count, ho.accept),
      timeToFirstHumanReply: pct(ho.reply_count, ho.reply),
    },
    review: {
      reviews: r.reviews,
      approved: r.approved,
      edited: r.edited,
      takenOver: r.taken_over,
      pending: r.reviews - r.approved - r.edited - r.taken_over,
      approvedRate: ratio(r.approved, r.approved + r.edited + r.taken_over),
      timeToReview: pct(r.review_count, r.review),
    },
  };
}

/** GET /v1/metrics/timeseries: one point per interval (UTC) with conversations, oldest first. */
export async function queryTimeseries(
  database: MetricsDatabase,
  q: MetricsQuery,
): Promise<Timeseries> {
  const key = bucket(q.interval);
  const [c, h] = await Promise.all([
    conversationAggregates(database, q, key),
    handoffAggregates(database, q, key),
  ]);
  const byKey = new Map(h.map((r) => [r.key, r]));
  const points: TimeseriesPoint[] = c
    .sort((x, y) => x.key.localeCompare(y.key))
    .map((a) => {
      const ho = byKey.get(a.key) ?? EMPTY_HANDOFFS;
      return {
        start: a.key,
        conversations: a.conversations,
        handoffs: ho.handoffs,
        automationRate: ratio(a.ai_resolved, a.conversations),
        handoffRate: ratio(a.handed_off, a.conversations),
        falseEscalationRate: ratio(ho.false_total, ho.handoffs),
        csatAiOnly: avgOrNull(a.ai_csat_responses, a.ai_csat_avg),
        csatHandedOff: avgOrNull(a.ho_csat_responses, a.ho_csat_avg),
        timeToHandoff: percentiles(a.tth_count, a.tth),
        waitToAccept: percentiles(ho.accept_count, ho.accept),
        timeToFirstHumanReply: percentiles(ho.reply_count, ho.reply),
      };
    });
  return { filters: q.filters, interval: q.interval, points };
}

/** GET /v1/metrics/breakdown: one row per value of the segment, most conversations first. */
export async function queryBreakdown(
  database: MetricsDatabase,
  q: MetricsQuery,
): Promise<Breakdown> {
  const key = segmentKey(q.groupBy);
  const [c, h] = await Promise.all([
    conversationAggregates(database, q, key),
    handoffAggregates(database, q, key),
  ]);
  const byKey = new Map(h.map((r) => [r.key, r]));
  const result = c
    .map((a) => {
      const ho = byKey.get(a.key) ?? EMPTY_HANDOFFS;
      return {
        key: displayKey(a.key),
        conversations: a.conversations,
        automationRate: ratio(a.ai_resolved, a.conversations),
        handoffRate: ratio(a.handed_off, a.conversations),
        falseEscalationRate: ratio(ho.false_total, ho.handoffs),
        missedEscalationRate: ratio(a.missed_total, a.missed_base),
        csatAiOnly: avgOrNull(a.ai_csat_responses, a.ai_csat_avg),
        csatHandedOff: avgOrNull(a.ho_csat_responses, a.ho_csat_avg),
      };
    })
    .sort((x, y) => y.conversations - x.conversations || x.key.localeCompare(y.key));
  return { filters: q.filters, groupBy: q.groupBy, rows: result };
}

/** GET /v1/metrics/handoffs: by rule (a handoff under each of its rules) and by trigger (its first rule, grouped). */
export async function queryHandoffs(database: MetricsDatabase, q: MetricsQuery): Promise<Handoffs> {
  const from = sql`from metrics.handoffs h join metrics.conversations c on c.conversation_id = h.conversation_id
    where h.requested_at is not null and ${conversationWhere(q)}`;
  const [byRule, byFirst] = await Promise.all([
    rows<{ rule: string; handoffs: number }>(
      database,
      sql`select r.rule, count(*)::int as handoffs
        from metrics.handoffs h join metrics.conversations c on c.conversation_id = h.conversation_id
        cross join lateral unnest(h.rules) as r(rule)
        where h.requested_at is not null and ${conversationWhere(q)}
        group by r.rule`,
    ),
    rows<{ rule: string | null; handoffs: number }>(
      database,
      sql`select h.rules[1] as rule, count(*)::int as handoffs ${from} group by 1`,
    ),
  ]);
  const total = byFirst.reduce((n, r) => n + r.handoffs, 0);
  const triggers = new Map<string, number>();
  for (const r of byFirst) {
    const t = triggerOf(r.rule ?? undefined);
    triggers.set(t, (triggers.get(t) ?? 0) + r.handoffs);
  }
  const sorted = <T extends { handoffs: number }>(list: T[], name: (t: T) => string) =>
    list.sort((a, b) => b.handoffs - a.handoffs || name(a).localeCompare(name(b)));
  return {
    filters: q.filters,
    handoffs: total,
    byRule: sorted(
      byRule.map((r) => ({ rule: r.rule, handoffs: r.handoffs, share: ratio(r.handoffs, total) })),
      (r) => r.rule,
    ),
    byTrigger: sorted(
      [...triggers].map(([trigger, n]) => ({ trigger, handoffs: n, share: ratio(n, total) })),
      (r) => r.trigger,
    ),
  };
}

/** How the rules endpoint learns the policy's thresholds: by rule name, undefined when the rule has none. */
export type ThresholdLookup = (rule: string) => RuleThreshold | undefined;

/** A rule's recorded handoffs as suggestion samples (the value of its own trigger). */
export async function ruleSamples(
  database: MetricsDatabase,
  q: MetricsQuery,
  rule: string,
): Promise<RuleSample[]> {
  const list = await rows<{
    rules: string[];
    triggers: TriggerRecord[];
    false_escalation: boolean;
  }>(
    database,
    sql`select h.rules, h.triggers, (h.false_marked or h.matched_article_id <> '') as false_escalation
      from metrics.handoffs h join metrics.conversations c on c.conversation_id = h.conversation_id
      where h.requested_at is not null and ${rule} = any(h.rules) and ${conversationWhere(q)}`,
  );
  return list.flatMap((h) => {
    const trigger = h.triggers.find((t) => t.rule === rule);
    if (!trigger) return [];
    return [
      {
        value: trigger.value,
        falseEscalation: h.false_escalation,
        alone: h.rules.every((r) => r === rule),
      },
    ];
  });
}

/** GET /v1/metrics/rules: fires and false escalations per rule, with a threshold suggestion where one fits. */
export async function queryRules(
  database: MetricsDatabase,
  q: MetricsQuery,
  thresholdOf: ThresholdLookup,
): Promise<Rules> {
  const counts = await rows<{ rule: string; fires: number; false_escalations: number }>(
    database,
    sql`select r.rule, count(*)::int as fires,
        (count(*) filter (where h.false_marked or h.matched_article_id <> ''))::int as false_escalations
      from metrics.handoffs h join metrics.conversations c on c.conversation_id = h.conversation_id
      cross join lateral unnest(h.rules) as r(rule)
      where h.requested_at is not null and ${conversationWhere(q)}
      group by r.rule
      order by fires desc, r.rule`,
  );
  const result: RuleRow[] = [];
  for (const c of counts) {
    const policy = thresholdOf(c.rule);
    const suggestion =
      policy && c.false_escalations > 0
        ? suggestThreshold(c.rule, policy, await ruleSamples(database, q, c.rule))
        : null;
    result.push({
      rule: c.rule,
      fires: c.fires,
      falseEscalations: c.false_escalations,
      falseEscalationRate: ratio(c.false_escalations, c.fires),
      suggestion,
    });
  }
  return { filters: q.filters, rules: result };
}

/** GET /v1/metrics/topics: escalated conversations per topic and interval, the trend, and articles' before/after. */
export async function queryTopics(database: MetricsDatabase, q: MetricsQuery): Promise<Topics> {
  const where = conversationWhere(q);
  const [bounds] = await rows<{ lo: string | null; hi: string | null }>(
    database,
    sql`select min(c.started_at)::text as lo, max(c.started_at)::text as hi from metrics.conversations c where ${where}`,
  );
  // The range's halves: the query's bounds, or those of the data when it leaves them open.
  const lo = q.range.from?.getTime() ?? (bounds?.lo ? Date.parse(bounds.lo) : 0);
  const hi = q.range.to?.getTime() ?? (bounds?.hi ? Date.parse(bounds.hi) + 1 : 0);
  const middle = new Date(lo + (hi - lo) / 2).toISOString();
  const [totals, series, articleRows] = await Promise.all([
    rows<{
      topic: string;
      conversations: number;
      escalations: number;
      first: number;
      second: number;
    }>(
      database,
      sql`select c.topic, count(*)::int as conversations,
          (count(*) filter (where c.handoffs > 0))::int as escalations,
          (count(*) filter (where c.handoffs > 0 and c.started_at < ${middle}::timestamptz))::int as first,
          (count(*) filter (where c.handoffs > 0 and c.started_at >= ${middle}::timestamptz))::int as second
        from metrics.conversations c where ${where} group by c.topic`,
    ),
    rows<{ topic: string; start: string; conversations: number; escalations: number }>(
      database,
      sql`select c.topic, ${bucket(q.interval)} as start, count(*)::int as conversations,
          (count(*) filter (where c.handoffs > 0))::int as escalations
        from metrics.conversations c where ${where} group by 1, 2 order by 2`,
    ),
    rows<{
      topic: string;
      article_id: string;
      title: string;
      published_at: string;
      before_conversations: number;
      before_escalations: number;
      after_conversations: number;
      after_escalations: number;
    }>(
      database,
      sql`select a.topic, a.article_id, a.title,
          to_char(a.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as published_at,
          (count(c.conversation_id) filter (where c.started_at < a.published_at))::int as before_conversations,
          (count(c.conversation_id) filter (where c.started_at < a.published_at and c.handoffs > 0))::int as before_escalations,
          (count(c.conversation_id) filter (where c.started_at >= a.published_at))::int as after_conversations,
          (count(c.conversation_id) filter (where c.started_at >= a.published_at and c.handoffs > 0))::int as after_escalations
        from metrics.articles a join metrics.conversations c on c.topic = a.topic and ${where}
        -- An article without a topic says nothing about any topic's escalations (conversations
        -- without one are listed as "unknown", which is no topic either).
        where a.topic <> ''
        group by a.topic, a.article_id, a.title, a.published_at
        order by a.published_at, a.article_id`,
    ),
  ]);
  const topics: TopicRow[] = totals
    .sort((a, b) => b.escalations - a.escalations || a.topic.localeCompare(b.topic))
    .map((t) => ({
      topic: displayKey(t.topic),
      conversations: t.conversations,
      escalations: t.escalations,
      ...trend(t.first, t.second),
      series: series
        .filter((s) => s.topic === t.topic)
        .map((s) => ({
          start: s.start,
          conversations: s.conversations,
          escalations: s.escalations,
        })),
      articles: articleRows
        .filter((a) => a.topic === t.topic)
        .map((a) => ({
          articleId: a.article_id,
          title: a.title,
          publishedAt: a.published_at,
          before: {
            conversations: a.before_conversations,
            escalations: a.before_escalations,
            rate: ratio(a.before_escalations, a.before_conversations),
          },
          after: {
            conversations: a.after_conversations,
            escalations: a.after_escalations,
            rate: ratio(a.after_escalations, a.after_conversations),
          },
        })),
    }));
  return { filters: q.filters, interval: q.interval, topics };
}

/** GET /v1/metrics/churn-risk: accounts that matter showing trouble, the most valuable first. */
export async function queryChurnRisk(
  database: MetricsDatabase,
  q: MetricsQuery,
): Promise<ChurnRisk> {
  const latest = (column: string) =>
    sql.raw(`(array_agg(c.${column} order by c.started_at desc, c.conversation_id desc))[1]`);
  const list = await rows<{
    account_id: string;
    name: string;
    tier: string;
    monthly_value: number;
    currency: string;
    owner: string;
    at_risk: boolean;
    vip: boolean;
    conversations: number;
    handoffs: number;
    last_conversation_id: string;
    last_at: string;
    sentiment: number | null;
    change: number | null;
    lowest_csat: number | null;
    lowest_handoff_csat: number | null;
  }>(
    database,
    sql`select c.account_id,
        ${latest('account_name')} as name, ${latest('tier')} as tier,
        ${latest('account_monthly_value')} as monthly_value, ${latest('account_currency')} as currency,
        ${latest('account_owner')} as owner, ${latest('account_at_risk')} as at_risk,
        ${latest('account_vip')} as vip,
        count(*)::int as conversations, coalesce(sum(c.handoffs), 0)::int as handoffs,
        ${latest('conversation_id')} as last_conversation_id,
        to_char(max(c.started_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as last_at,
        min(c.lowest_sentiment) as sentiment, min(c.largest_fall) as change,
        min(c.csat_score)::int as lowest_csat,
        (min(c.csat_score) filter (where c.handoffs > 0))::int as lowest_handoff_csat
      from metrics.conversations c
      where c.account_id <> '' and ${conversationWhere(q)}
      group by c.account_id`,
  );
  const accounts: ChurnRiskRow[] = [];
  for (const a of list) {
    const reasons = churnReasons({
      tier: a.tier,
      vip: a.vip,
      atRisk: a.at_risk,
      sentiment: a.sentiment,
      change: a.change,
      lowestHandoffCsat: a.lowest_handoff_csat,
    });
    if (!reasons.length) continue;
    accounts.push({
      accountId: a.account_id,
      name: a.name,
      tier: a.tier,
      monthlyValue: a.monthly_value,
      currency: a.currency,
      owner: a.owner,
      atRisk: a.at_risk,
      conversations: a.conversations,
      handoffs: a.handoffs,
      lastConversationId: a.last_conversation_id,
      lastAt: a.last_at,
      sentiment: round4(a.sentiment ?? 0),
      change: round4(a.change ?? 0),
      lowestCsat: a.lowest_csat,
      reasons,
    });
  }
  accounts.sort(
    (x, y) =>
      y.monthlyValue - x.monthlyValue ||
      x.sentiment - y.sentiment ||
      x.accountId.localeCompare(y.accountId),
  );
  return { filters: q.filters, accounts };
}
