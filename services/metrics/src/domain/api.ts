/**
 * The analyst API's responses (GET /v1/metrics/...), shared with the dashboard in the desk's web
 * application. Durations are in seconds; rates are fractions 0..1 rounded to 4 places; a
 * percentile over no samples is null. Every endpoint takes the same query:
 *   from, to          ISO 8601 (from inclusive, to exclusive) on the conversation's start
 *   channel, tier, language, topic, policyVersion    segment filters (exact match)
 * and, where it applies, `interval` (hour | day | week) or `groupBy` (a segment name).
 * `format=csv` (or Accept: text/csv) answers the same rows as CSV.
 */

export type SegmentName = 'channel' | 'tier' | 'language' | 'topic' | 'policyVersion';
export type Interval = 'hour' | 'day' | 'week';

export interface Filters {
  from: string | null;
  to: string | null;
  channel?: string;
  tier?: string;
  language?: string;
  topic?: string;
  policyVersion?: string;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface CsatStat {
  /** Conversations asked to rate. */
  requested: number;
  responses: number;
  /** Mean score 1..5, null without responses. */
  average: number | null;
  /** Share of responses scoring 4 or 5. */
  satisfied: number;
}

/** GET /v1/metrics/overview */
export interface Overview {
  filters: Filters;
  conversations: number;
  automation: {
    /** Resolved by the AI without a handoff: confirmed by the customer plus assumed after the quiet window. */
    resolved: number;
    confirmed: number;
    assumed: number;
    rate: number;
    quietWindowMinutes: number;
  };
  handoff: {
    /** Conversations with at least one handoff, and the handoffs themselves. */
    conversations: number;
    handoffs: number;
    rate: number;
  };
  csat: { overall: CsatStat; aiOnly: CsatStat; handedOff: CsatStat };
  falseEscalation: {
    handoffs: number;
    /** An agent marked "the AI could have handled this". */
    marked: number;
    /** The person's resolution matched an article already published. */
    matchedArticle: number;
    /** Either of the two (a handoff counts once). */
    total: number;
    rate: number;
  };
  missedEscalation: {
    aiResolved: number;
    reopened: number;
    /** Rated 1 or 2. */
    ratedBadly: number;
    /** Either of the two (a conversation counts once). */
    total: number;
    rate: number;
  };
  latency: {
    /** From the conversation's first message to its first handoff. */
    timeToHandoff: Percentiles;
    /** From the message that triggered the handoff to the handoff. */
    timeToHandoffFromTrigger: Percentiles;
    /** From the handoff to an agent's acceptance. */
    waitToAccept: Percentiles;
    /** From the handoff to the first reply a person sent. */
    timeToFirstHumanReply: Percentiles;
  };
  /**
   * AI drafts held for a person's review (a policy rule with effect review): how many, how each
   * ended (sent unchanged, edited, taken over as a handoff; pending until decided), and the time
   * to review, from the review's request to the reviewer's decision.
   */
  review: {
    reviews: number;
    approved: number;
    edited: number;
    takenOver: number;
    pending: number;
    /** Decided reviews sent unchanged / decided reviews (0 over none). */
    approvedRate: number;
    timeToReview: Percentiles;
  };
}

/** GET /v1/metrics/timeseries?interval=day: one point per interval with conversations. */
export interface TimeseriesPoint {
  start: string;
  conversations: number;
  handoffs: number;
  automationRate: number;
  handoffRate: number;
  falseEscalationRate: number;
  csatAiOnly: number | null;
  csatHandedOff: number | null;
  timeToHandoff: Percentiles;
  waitToAccept: Percentiles;
  timeToFirstHumanReply: Percentiles;
}
export interface Timeseries {
  filters: Filters;
  interval: Interval;
  points: TimeseriesPoint[];
}

/** GET /v1/metrics/breakdown?groupBy=channel */
export interface BreakdownRow {
  key: string;
  conversations: number;
  automationRate: number;
  handoffRate: number;
  falseEscalationRate: number;
  missedEscalationRate: number;
  csatAiOnly: number | null;
  csatHandedOff: number | null;
}
export interface Breakdown {
  filters: Filters;
  groupBy: SegmentName;
  rows: BreakdownRow[];
}

/** GET /v1/metrics/handoffs: handoffs by trigger (the rules that fired, or explicit_request). */
export interface Handoffs {
  filters: Filters;
  handoffs: number;
  /** A handoff with several rules counts once under each. */
  byRule: { rule: string; handoffs: number; share: number }[];
  /** What triggered it: the first rule named, grouped (explicit request, sentiment, confidence, topic, account, …). */
  byTrigger: { trigger: string; handoffs: number; share: number }[];
}

export interface ThresholdSuggestion {
  /** The policy's threshold name (thresholds.<name>), when the rule compares with one. */
  threshold: string;
  current: number;
  suggested: number;
  /** In words: why, and what it would have changed on the recorded handoffs. */
  rationale: string;
  /** Of this rule's recorded handoffs, how many the suggestion would have kept from a person, false and confirmed. */
  wouldAvoidFalse: number;
  wouldMissConfirmed: number;
}

/** GET /v1/metrics/rules */
export interface RuleRow {
  rule: string;
  fires: number;
  falseEscalations: number;
  falseEscalationRate: number;
  suggestion: ThresholdSuggestion | null;
}
export interface Rules {
  filters: Filters;
  rules: RuleRow[];
  /** The decider's policy the suggestions name thresholds from (null when it could not be read). */
  policyVersion?: string | null;
  /** Why the policy could not be read: suggestions are null then. */
  policyError?: string;
}

/** POST /v1/metrics/rules/:rule/whatif: the suggestion replayed by the decider's what-if. */
export interface RuleWhatIf {
  rule: string;
  suggestion: ThresholdSuggestion;
  candidateVersion: string;
  recorded: { handoffs: number; handoffRate: number; conversationsHandedOff: number };
  candidate: { handoffs: number; handoffRate: number; conversationsHandedOff: number };
  flipped: { toHuman: number; toAi: number };
}

/** GET /v1/metrics/topics?interval=day: escalations per topic (the knowledge gaps) and their trend. */
export interface TopicRow {
  topic: string;
  conversations: number;
  escalations: number;
  /** Escalations in the range's second half against its first half. */
  trend: 'rising' | 'falling' | 'flat';
  change: number;
  series: { start: string; conversations: number; escalations: number }[];
  /** Articles published on this topic, with the topic's escalation rate before and after. */
  articles: {
    articleId: string;
    title: string;
    publishedAt: string;
    before: { conversations: number; escalations: number; rate: number };
    after: { conversations: number; escalations: number; rate: number };
  }[];
}
export interface Topics {
  filters: Filters;
  interval: Interval;
  topics: TopicRow[];
}

/** GET /v1/metrics/churn-risk: at-risk accounts with negative trajectories. */
export interface ChurnRiskRow {
  accountId: string;
  name: string;
  tier: string;
  monthlyValue: number;
  currency: string;
  owner: string;
  atRisk: boolean;
  conversations: number;
  handoffs: number;
  lastConversationId: string;
  lastAt: string;
  /** The lowest smoothed sentiment and the largest fall seen in its conversations (-1..1). */
  sentiment: number;
  change: number;
  lowestCsat: number | null;
  reasons: string[];
}
export interface ChurnRisk {
  filters: Filters;
  accounts: ChurnRiskRow[];
}
