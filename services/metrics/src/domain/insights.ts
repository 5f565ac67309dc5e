import {
  Speaker,
  type Account,
  type Briefing,
  type ChurnRiskSchema,
  type ConversationEvent,
  type KnowledgeGapSchema,
  type MessageInitShape,
  type Trajectory,
} from '@support/contracts';

/**
 * Insights raised from the conversation log for account teams and webhooks: churn risk (an
 * account that matters has a conversation going badly) and knowledge gaps (a topic that keeps
 * escalating). Pure decisions; the adapter keeps the state in Redis and publishes the alerts.
 */

export interface InsightSettings {
  /** Smoothed sentiment at or below which a conversation counts as gone negative. */
  churnSentiment: number;
  /** A sentiment shift (the scorer's flag) counts when the change from the start is at most this. */
  churnChange: number;
  /** A CSAT score at or below this after a handoff counts as rated badly. */
  churnCsat: number;
  gapWindowHours: number;
  /** Escalations of a topic in the window needed for a knowledge gap. */
  gapMin: number;
  /** How many times the window before the recent window must have been exceeded. */
  gapRatio: number;
  /** Events older than this (replays of the log) update the state but raise no alert. */
  alertMaxAgeHours: number;
  /** How often the escalations counted are checked for knowledge gaps (gapCheck below). */
  gapCheckMs: number;
}

export const defaultInsightSettings: InsightSettings = {
  churnSentiment: -0.3,
  churnChange: -0.4,
  churnCsat: 2,
  gapWindowHours: 24,
  gapMin: 5,
  gapRatio: 1.5,
  alertMaxAgeHours: 24,
  gapCheckMs: 5000,
};

/** What the account team needs to know of an account, as the decider saw it in the CRM. */
export interface AccountFacts {
  accountId: string;
  name: string;
  tier: string;
  vip: boolean;
  atRisk: boolean;
  monthlyValue: number;
  currency: string;
  owner: string;
}

/** What the insights remember of one conversation between its events. */
export interface ConversationWatch {
  account?: AccountFacts;
  handedOff: boolean;
  /** The latest trajectory the sentiment scorer reported. */
  trajectory?: { smoothed: number; start: number; change: number; shift: boolean };
}

export const initialWatch: ConversationWatch = { handedOff: false };

export function accountFacts(account: Account | undefined): AccountFacts | undefined {
  if (!account?.accountId) return undefined;
  return {
    accountId: account.accountId,
    name: account.name,
    tier: account.tier,
    vip: account.vip,
    atRisk: account.atRisk,
    monthlyValue: account.monthlyValue,
    currency: account.currency,
    owner: account.owner,
  };
}

function trajectoryOf(t: Trajectory | undefined): ConversationWatch['trajectory'] {
  if (!t || t.messages === 0) return undefined;
  return { smoothed: t.smoothed, start: t.start, change: t.change, shift: t.shift };
}

/** The events the watch folds or a churn risk is raised on; every other one leaves both as they are. */
const WATCHED_EVENTS = new Set<ConversationEvent['payload']['case']>([
  'messageScored',
  'aiReplyReleased',
  'handoffRequested',
  'csatRated',
]);

/** Whether an event changes the conversation's watch or may raise a churn risk (else: no need to read the watch). */
export function concernsWatch(event: ConversationEvent): boolean {
  return WATCHED_EVENTS.has(event.payload.case);
}

/** Folds one log event into what the insights remember of its conversation. */
export function evolveWatch(watch: ConversationWatch, event: ConversationEvent): ConversationWatch {
  const p = event.payload;
  switch (p.case) {
    case 'messageScored':
      return { ...watch, trajectory: trajectoryOf(p.value.trajectory) ?? watch.trajectory };
    case 'aiReplyReleased':
      return { ...watch, account: accountFacts(p.value.context?.account) ?? watch.account };
    case 'handoffRequested':
      return {
        ...watch,
        handedOff: true,
        account: accountFacts(p.value.briefing?.account) ?? watch.account,
        trajectory: watch.trajectory ?? trajectoryOf(p.value.briefing?.trajectory),
      };
    default:
      return watch;
  }
}

/** Why an account matters enough to watch, in words; empty when it does not. */
export function whyWatched(account: AccountFacts): string[] {
  const why: string[] = [];
  if (account.atRisk) why.push('flagged at risk in the CRM');
  if (account.vip) why.push('VIP account');
  if (account.tier.toLowerCase() === 'enterprise') why.push('enterprise account');
  return why;
}

const sentimentWords = (n: number) => (Math.round(n * 100) / 100).toString();

/** How the conversation's sentiment went wrong, in words; undefined while it has not. */
export function sentimentTurn(
  t: ConversationWatch['trajectory'],
  settings: InsightSettings,
): string | undefined {
  if (!t) return undefined;
  const fell = t.smoothed <= settings.churnSentiment;
  const shifted = t.shift && t.change <= settings.churnChange;
  if (!fell && !shifted) return undefined;
  return t.start > t.smoothed
    ? `sentiment fell from ${sentimentWords(t.start)} to ${sentimentWords(t.smoothed)}`
    : `sentiment fell to ${sentimentWords(t.smoothed)}`;
}

export type ChurnRiskFields = Omit<MessageInitShape<typeof ChurnRiskSchema>, '$typeName'>;
export type KnowledgeGapFields = Omit<MessageInitShape<typeof KnowledgeGapSchema>, '$typeName'>;

/** An alert to raise: its stable id, what it is keyed by on insights.alerts, and when it happened. */
export interface InsightDecision<Fields> {
  alertId: string;
  key: string;
  occurredAt: string;
  fields: Fields;
}

/** The UTC day of an RFC 3339 time, yyyy-mm-dd. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * Churn risk after an event: the conversation's account matters (at risk in the CRM, VIP or
 * enterprise) and its sentiment has turned negative, or it was handed off and then rated badly.
 * One alert per account and day: the id says so, and the adapter raises each id once.
 */
export function churnRisk(
  watch: ConversationWatch,
  event: ConversationEvent,
  at: Date,
  settings: InsightSettings,
): InsightDecision<ChurnRiskFields> | undefined {
  const account = watch.account;
  if (!account) return undefined;
  const watched = whyWatched(account);
  if (watched.length === 0) return undefined;
  const p = event.payload;
  const signals: string[] = [];
  if (p.case === 'csatRated' && watch.handedOff && p.value.score <= settings.churnCsat)
    signals.push(`rated ${p.value.score}/5 after a handoff`);
  if (
    p.case === 'messageScored' ||
    p.case === 'aiReplyReleased' ||
    p.case === 'handoffRequested' ||
    p.case === 'csatRated'
  ) {
    const turn = sentimentTurn(watch.trajectory, settings);
    if (turn) signals.push(turn);
  }
  if (signals.length === 0) return undefined;
  return {
    alertId: `churn:${account.accountId}:${dayOf(at)}`,
    key: account.accountId,
    occurredAt: at.toISOString(),
    fields: {
      accountId: account.accountId,
      accountName: account.name,
      tier: account.tier,
      monthlyValue: account.monthlyValue,
      currency: account.currency,
      owner: account.owner,
      conversationId: event.conversationId,
      reasons: [...watched, ...signals],
      sentiment: watch.trajectory?.smoothed ?? 0,
    },
  };
}

/** The topic a handoff counts for: the briefing's topic, else its intent; '' when neither is known. */
export function handoffTopic(briefing: Briefing | undefined): string {
  const topic = briefing?.topic.trim().toLowerCase() ?? '';
  if (topic) return topic;
  const intent = briefing?.intent.trim().toLowerCase() ?? '';
  return intent === 'unknown' ? '' : intent;
}

/** The customer's question that escalated: the last customer line of the briefing's transcript. */
export function exampleQuestion(briefing: Briefing | undefined): string {
  const line = [...(briefing?.transcript ?? [])]
    .reverse()
    .find((t) => t.speaker === Speaker.CUSTOMER && t.text.trim());
  const text = line?.text.trim().replace(/\s+/g, ' ') ?? '';
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

const HOUR = 3600_000;

/** The hour an instant falls in, counted from the epoch: the buckets' index. */
export const hourOf = (at: Date): number => Math.floor(at.getTime() / HOUR);

/**
 * The hours to count for a handoff in hour `hour`: the recent window ends with it, the window
 * before ends where it starts. `alignedStart` is the start of the fixed window (of the same
 * length, aligned to the epoch) that the hour falls in, which names the alert, so that a gap is
 * raised once per topic and window however many handoffs come after.
 */
export function gapWindows(
  hour: number,
  windowHours: number,
): { recent: number[]; previous: number[]; alignedStart: number } {
  const span = (from: number) => Array.from({ length: windowHours }, (_, i) => from + i);
  return {
    recent: span(hour - windowHours + 1),
    previous: span(hour - 2 * windowHours + 1),
    alignedStart: Math.floor(hour / windowHours) * windowHours,
  };
}

/** A knowledge gap: enough escalations of the topic in the window, and clearly more than before. */
export function knowledgeGap(
  topic: string,
  counts: { recent: number; previous: number; examples: string[] },
  hour: number,
  at: Date,
  settings: InsightSettings,
): InsightDecision<KnowledgeGapFields> | undefined {
  if (!topic) return undefined;
  if (counts.recent < settings.gapMin) return undefined;
  if (counts.recent < settings.gapRatio * counts.previous) return undefined;
  const { alignedStart } = gapWindows(hour, settings.gapWindowHours);
  const windowStart = new Date(alignedStart * HOUR).toISOString().slice(0, 13);
  return {
    alertId: `gap:${topic}:${windowStart}:${settings.gapWindowHours}h`,
    key: topic,
    occurredAt: at.toISOString(),
    fields: {
      topic,
      escalations: counts.recent,
      previousEscalations: counts.previous,
      windowHours: settings.gapWindowHours,
      examples: [...new Set(counts.examples.filter(Boolean))].slice(0, 3),
    },
  };
}

/** Whether an event is recent enough to raise an alert (a replay of old history raises none). */
export function recentEnough(at: Date, now: Date, settings: InsightSettings): boolean {
  return now.getTime() - at.getTime() <= settings.alertMaxAgeHours * HOUR;
}

/*
 * When to decide on a knowledge gap. The log is keyed by conversation, so a topic's escalations
 * sit on every partition, and partitions are read side by side: an escalation of now may be
 * counted before one of the window before that was written ahead of it on another partition
 * (a catch-up, a burst). Deciding as each escalation is counted would then compare with a window
 * before that is not whole yet, and raise a gap too early. So the escalation is only noted as
 * pending, with where it sits on the log; a check decides once the consumer group has committed
 * the log's ends as they were at a mark taken after that escalation was written: by then every
 * record written before it, on every partition, has been counted.
 */

/** A partition's end on the log (the next offset to be written) and its first offset. */
export interface PartitionEnd {
  partition: number;
  high: string;
  low: string;
}

/** The log's ends at a moment: everything written before it is below them. */
export interface LogMark {
  ends: PartitionEnd[];
}

/** A topic's latest recent escalation, waiting for the check: where it is on the log, and what caused it. */
export interface PendingGap {
  topic: string;
  hour: number;
  at: string;
  partition: number;
  offset: string;
  conversationId: string;
  correlationId: string;
  causationId: string;
}

/** Whether the group's committed positions have reached the mark on every partition (an empty one counts). */
export function reachedMark(mark: LogMark, committed: Map<number, bigint>): boolean {
  return mark.ends.every(
    (end) =>
      BigInt(end.high) <= BigInt(end.low) ||
      (committed.get(end.partition) ?? -1n) >= BigInt(end.high),
  );
}

/** Whether a pending escalation was written before the mark, so that a group past the mark has counted all before it. */
export function writtenBefore(pending: PendingGap, mark: LogMark): boolean {
  const end = mark.ends.find((e) => e.partition === pending.partition);
  return end !== undefined && BigInt(pending.offset) < BigInt(end.high);
}
