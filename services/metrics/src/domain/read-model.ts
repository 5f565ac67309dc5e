import {
  Priority,
  Resolution,
  type Account,
  type ConversationEvent,
  type KnowledgeEvent,
} from '@support/contracts';
import { invalidLogEvent } from '@support/conversation';
import { applyReviewEvent, type ReviewRow } from './reviews.js';

/**
 * The metrics read model: one row per conversation, one per handoff, one per published article.
 * Everything here is a pure fold of the log (conversation.events) and of the knowledge base's
 * events (knowledge.events); the live consumer and the rebuild run the same functions.
 */

/** The read model's row for one conversation. */
export interface ConversationRow {
  conversationId: string;
  /** Segments ('' while unknown). */
  channel: string;
  tier: string;
  language: string;
  topic: string;
  policyVersion: string;
  accountId: string;
  accountName: string;
  accountOwner: string;
  accountMonthlyValue: number;
  accountCurrency: string;
  accountAtRisk: boolean;
  accountVip: boolean;
  /** The conversation's first event; the time every range filter applies to. */
  startedAt: Date;
  firstMessageAt: Date | null;
  aiReplies: number;
  handoffs: number;
  firstHandoffAt: Date | null;
  /** When the customer message that triggered the first handoff arrived. */
  firstTriggerAt: Date | null;
  assignedAt: Date | null;
  /** The conversation's status, as in @support/conversation. */
  status: string;
  resolvedAs: 'ai' | 'human' | null;
  resolvedAt: Date | null;
  /** The current resolution is an AI resolution assumed after the quiet window. */
  assumed: boolean;
  /** The first time the AI resolved it with no handoff before: the base of missed escalations. */
  aiResolvedAt: Date | null;
  /** The customer wrote again after that AI resolution. */
  reopenedAfterAi: boolean;
  reopened: number;
  csatRequested: boolean;
  /** The latest rating, 1..5. */
  csatScore: number | null;
  /** The lowest smoothed sentiment and the most negative change from the start (-1..1). */
  lowestSentiment: number | null;
  largestFall: number | null;
  /** Customer message id -> arrival time (ISO), to time a handoff from the message that triggered it. */
  messageTimes: Record<string, string>;
}

export interface TriggerRecord {
  rule: string;
  value: number;
  threshold: number;
}

/** One row per handoff id (a re-routed handoff is still one). */
export interface HandoffRow {
  handoffId: string;
  conversationId: string;
  /** Null while only a knowledge event has named the handoff. */
  requestedAt: Date | null;
  triggerAt: Date | null;
  rules: string[];
  triggers: TriggerRecord[];
  priority: string;
  policyVersion: string;
  topic: string;
  assignments: number;
  assignedAt: Date | null;
  acceptedAt: Date | null;
  firstReplyAt: Date | null;
  falseMarked: boolean;
  /** The published article a person's resolution matched ('' when none): a false escalation. */
  matchedArticleId: string;
  handedBackAt: Date | null;
  resolvedAt: Date | null;
}

export interface ArticleRow {
  articleId: string;
  title: string;
  topic: string;
  publishedAt: Date;
}

/** What the fold keeps for one conversation. */
export interface ConversationState {
  row?: ConversationRow;
  handoffs: Record<string, HandoffRow>;
  /** Reviews of AI drafts (absent until the first). */
  reviews?: Record<string, ReviewRow>;
}

/** Why a log event cannot be applied (the live consumer dead-letters it, a rebuild skips it), or undefined. */
export function invalidReason(event: ConversationEvent): string | undefined {
  const missing = invalidLogEvent(event);
  if (missing) return missing;
  const p = event.payload;
  if (p.case === 'csatRated' && (p.value.score < 1 || p.value.score > 5))
    return 'csat_rated.score must be between 1 and 5';
  if (p.case === 'handoffRequested' && !p.value.handoffId)
    return 'handoff_requested.handoff_id is required';
  return undefined;
}

/** Why a knowledge event cannot be applied, or undefined. Kinds the read model does not use pass. */
export function invalidKnowledgeReason(event: KnowledgeEvent): string | undefined {
  if (!event.eventId) return 'event_id is required';
  const p = event.payload;
  if (!p.case) return 'payload is required';
  if (p.case === 'articlePublished' && !p.value.articleId)
    return 'article_published.article_id is required';
  if (p.case === 'resolutionMatched' && (!p.value.handoffId || !p.value.articleId))
    return 'resolution_matched.handoff_id and article_id are required';
  return undefined;
}

/** When the event happened: its occurred_at, else the fallback (the record's time). */
export function eventTime(occurredAt: string, fallback: Date): Date {
  const at = Date.parse(occurredAt);
  return Number.isNaN(at) ? fallback : new Date(at);
}

export function blankConversation(conversationId: string, at: Date): ConversationRow {
  return {
    conversationId,
    channel: '',
    tier: '',
    language: '',
    topic: '',
    policyVersion: '',
    accountId: '',
    accountName: '',
    accountOwner: '',
    accountMonthlyValue: 0,
    accountCurrency: '',
    accountAtRisk: false,
    accountVip: false,
    startedAt: at,
    firstMessageAt: null,
    aiReplies: 0,
    handoffs: 0,
    firstHandoffAt: null,
    firstTriggerAt: null,
    assignedAt: null,
    status: 'new',
    resolvedAs: null,
    resolvedAt: null,
    assumed: false,
    aiResolvedAt: null,
    reopenedAfterAi: false,
    reopened: 0,
    csatRequested: false,
    csatScore: null,
    lowestSentiment: null,
    largestFall: null,
    messageTimes: {},
  };
}

export function blankHandoff(handoffId: string, conversationId: string): HandoffRow {
  return {
    handoffId,
    conversationId,
    requestedAt: null,
    triggerAt: null,
    rules: [],
    triggers: [],
    priority: '',
    policyVersion: '',
    topic: '',
    assignments: 0,
    assignedAt: null,
    acceptedAt: null,
    firstReplyAt: null,
    falseMarked: false,
    matchedArticleId: '',
    handedBackAt: null,
    resolvedAt: null,
  };
}

const isResolved = (status: string) =>
  status === 'resolved_by_ai' || status === 'resolved_by_human';

/** The primary language subtag: "de-AT" -> "de". */
export const primaryLanguage = (locale: string): string =>
  locale.trim().split(/[-_]/)[0]?.toLowerCase() ?? '';

const PRIORITY_NAMES: Record<number, string> = {
  [Priority.LOW]: 'low',
  [Priority.NORMAL]: 'normal',
  [Priority.HIGH]: 'high',
  [Priority.URGENT]: 'urgent',
};

/** The account as the decider saw it: it replaces what was known when it names an account. */
function withAccount(row: ConversationRow, account: Account | undefined): ConversationRow {
  if (!account?.accountId) return row;
  return {
    ...row,
    tier: account.tier,
    accountId: account.accountId,
    accountName: account.name,
    accountOwner: account.owner,
    accountMonthlyValue: account.monthlyValue,
    accountCurrency: account.currency,
    accountAtRisk: account.atRisk,
    accountVip: account.vip,
  };
}

const minOrNull = (a: number | null, b: number): number => (a === null ? b : Math.min(a, b));

/** Applies a change to the live handoff (one not yet known only from a knowledge event). */
function updateHandoff(
  state: ConversationState,
  handoffId: string,
  change: (h: HandoffRow) => HandoffRow,
): Record<string, HandoffRow> | undefined {
  const h = state.handoffs[handoffId];
  if (!h?.requestedAt) return undefined;
  return { ...state.handoffs, [handoffId]: change(h) };
}

/** Handoffs not yet resolved or handed back, closed at `at`. */
function closeOpenHandoffs(
  handoffs: Record<string, HandoffRow>,
  at: Date,
): Record<string, HandoffRow> {
  const next: Record<string, HandoffRow> = {};
  for (const [id, h] of Object.entries(handoffs))
    next[id] = h.requestedAt && !h.resolvedAt && !h.handedBackAt ? { ...h, resolvedAt: at } : h;
  return next;
}

/**
 * The conversation's state after one log event, or undefined when the event changes nothing the
 * read model keeps: its row and handoffs, and its reviews (reviews.ts). The caller applies each
 * event id at most once, in log order.
 */
export function applyConversationEvent(
  state: ConversationState,
  event: ConversationEvent,
  fallbackAt: Date,
): ConversationState | undefined {
  const next = applyToRowAndHandoffs(state, event, fallbackAt);
  const at = eventTime(event.occurredAt, fallbackAt);
  const topic = next?.row?.topic ?? state.row?.topic ?? '';
  const reviews = applyReviewEvent(state.reviews ?? {}, event, at, topic);
  if (!reviews) return next;
  const base = next ?? {
    ...state,
    row: state.row ?? blankConversation(event.conversationId, at),
  };
  return { ...base, reviews };
}

function applyToRowAndHandoffs(
  state: ConversationState,
  event: ConversationEvent,
  fallbackAt: Date,
): ConversationState | undefined {
  const at = eventTime(event.occurredAt, fallbackAt);
  const row = state.row ?? blankConversation(event.conversationId, at);
  const p = event.payload;
  const next = (changes: Partial<ConversationRow>, handoffs = state.handoffs) => ({
    row: { ...row, ...changes },
    handoffs,
  });
  switch (p.case) {
    case 'customerMessageReceived': {
      const m = p.value;
      const reopening = isResolved(row.status);
      return next({
        channel: row.channel || m.channel,
        language: row.language || primaryLanguage(m.locale),
        firstMessageAt: row.firstMessageAt ?? at,
        status: reopening ? 'reopened' : row.status === 'new' ? 'ai_handling' : row.status,
        reopened: row.reopened + (reopening ? 1 : 0),
        reopenedAfterAi: row.reopenedAfterAi || (reopening && row.aiResolvedAt !== null),
        resolvedAs: reopening ? null : row.resolvedAs,
        resolvedAt: reopening ? null : row.resolvedAt,
        assumed: reopening ? false : row.assumed,
        messageTimes: m.messageId
          ? {
              ...row.messageTimes,
              [m.messageId]: row.messageTimes[m.messageId] ?? at.toISOString(),
            }
          : row.messageTimes,
      });
    }
    case 'aiReplyProposed':
      return row.topic || !p.value.topic ? undefined : next({ topic: p.value.topic });
    case 'messageScored': {
      const t = p.value.trajectory;
      if (!t || t.messages <= 0) return undefined;
      return next({
        lowestSentiment: minOrNull(row.lowestSentiment, t.smoothed),
        largestFall: minOrNull(row.largestFall, t.change),
      });
    }
    case 'aiReplyReleased':
      return next({
        ...withAccount(row, p.value.context?.account),
        aiReplies: row.aiReplies + 1,
        policyVersion: p.value.policyVersion || row.policyVersion,
        status: row.status === 'new' || row.status === 'reopened' ? 'ai_handling' : row.status,
      });
    case 'handoffRequested': {
      const h = p.value;
      const b = h.briefing;
      const triggerIso = row.messageTimes[h.messageId];
      const triggerAt = triggerIso ? new Date(triggerIso) : null;
      const existing = state.handoffs[h.handoffId];
      // A repeat of a handoff id (a second decider instance) is the same handoff.
      if (existing?.requestedAt) return undefined;
      const policyVersion = h.policyVersion || b?.policyVersion || '';
      const topic = row.topic || b?.topic || '';
      const handoff: HandoffRow = {
        ...(existing ?? blankHandoff(h.handoffId, event.conversationId)),
        conversationId: event.conversationId,
        requestedAt: at,
        triggerAt,
        rules: [...new Set(h.triggers.map((t) => t.rule))],
        triggers: h.triggers.map((t) => ({ rule: t.rule, value: t.value, threshold: t.threshold })),
        priority: PRIORITY_NAMES[h.priority] ?? '',
        policyVersion,
        topic,
      };
      return next(
        {
          ...withAccount(row, b?.account),
          language: row.language || primaryLanguage(h.language || b?.language || ''),
          topic,
          policyVersion: policyVersion || row.policyVersion,
          handoffs: row.handoffs + 1,
          firstHandoffAt: row.firstHandoffAt ?? at,
          firstTriggerAt: row.firstHandoffAt ? row.firstTriggerAt : triggerAt,
          status: 'awaiting_human',
        },
        { ...state.handoffs, [h.handoffId]: handoff },
      );
    }
    case 'agentAssigned': {
      const handoffs = updateHandoff(state, p.value.handoffId, (h) => ({
        ...h,
        assignments: h.assignments + 1,
        assignedAt: h.assignedAt ?? at,
      }));
      return next(
        {
          assignedAt: row.assignedAt ?? at,
          status: row.status === 'awaiting_human' ? 'with_human' : row.status,
        },
        handoffs ?? state.handoffs,
      );
    }
    case 'agentAccepted': {
      const handoffs = updateHandoff(state, p.value.handoffId, (h) => ({
        ...h,
        acceptedAt: h.acceptedAt ?? at,
      }));
      return handoffs && { row, handoffs };
    }
    case 'agentReplied': {
      const handoffs = updateHandoff(state, p.value.handoffId, (h) => ({
        ...h,
        firstReplyAt: h.firstReplyAt ?? at,
      }));
      return handoffs && { row, handoffs };
    }
    case 'falseEscalationMarked': {
      const handoffs = updateHandoff(state, p.value.handoffId, (h) => ({
        ...h,
        falseMarked: true,
      }));
      return handoffs && { row, handoffs };
    }
    case 'handedBack': {
      const handoffs = updateHandoff(state, p.value.handoffId, (h) => ({
        ...h,
        handedBackAt: h.handedBackAt ?? at,
      }));
      return next({ status: 'ai_handling' }, handoffs ?? state.handoffs);
    }
    case 'conversationResolved': {
      const human = p.value.resolution === Resolution.HUMAN;
      const ai = !human && row.handoffs === 0;
      return next(
        {
          status: human ? 'resolved_by_human' : 'resolved_by_ai',
          resolvedAs: human ? 'human' : 'ai',
          resolvedAt: at,
          assumed: !human && p.value.assumed,
          aiResolvedAt: row.aiResolvedAt ?? (ai ? at : null),
        },
        closeOpenHandoffs(state.handoffs, at),
      );
    }
    case 'csatRequested':
      return row.csatRequested ? undefined : next({ csatRequested: true });
    case 'csatRated':
      return next({ csatScore: p.value.score });
    default:
      return undefined;
  }
}

/** What one knowledge event changes: an article's publication, or a handoff's matched article. */
export type KnowledgeChange =
  | { kind: 'article'; article: ArticleRow }
  | { kind: 'match'; handoffId: string; conversationId: string; articleId: string };

export function knowledgeChange(
  event: KnowledgeEvent,
  fallbackAt: Date,
): KnowledgeChange | undefined {
  const p = event.payload;
  if (p.case === 'articlePublished')
    return {
      kind: 'article',
      article: {
        articleId: p.value.articleId,
        title: p.value.title,
        topic: p.value.topic,
        publishedAt: eventTime(event.occurredAt, fallbackAt),
      },
    };
  if (p.case === 'resolutionMatched')
    return {
      kind: 'match',
      handoffId: p.value.handoffId,
      conversationId: p.value.conversationId,
      articleId: p.value.articleId,
    };
  return undefined;
}

/**
 * An article keeps its first publication (a re-publication is an edit); a handoff keeps the first
 * article its resolution matched. Both make knowledge events commute with the conversation log.
 */
export function mergeArticle(existing: ArticleRow | undefined, article: ArticleRow): ArticleRow {
  if (!existing) return article;
  return existing.publishedAt <= article.publishedAt ? existing : article;
}

/** The key under which a knowledge event's id is remembered (ids are unique per topic only). */
export const knowledgeEventKey = (eventId: string) => `knowledge:${eventId}`;

export interface FoldedReadModel {
  conversations: ConversationRow[];
  handoffs: HandoffRow[];
  reviews: ReviewRow[];
  articles: ArticleRow[];
  /** Every event id applied (knowledge ones under knowledgeEventKey). */
  eventIds: string[];
}

/**
 * The whole read model from the two logs: conversation events in log order per conversation,
 * knowledge events in any order. Each event id counts once; invalid events are skipped. The live
 * consumer applies the same functions one event at a time.
 */
export class ReadModelFold {
  private readonly states = new Map<string, ConversationState>();
  private readonly articles = new Map<string, ArticleRow>();
  private readonly matches = new Map<string, { conversationId: string; articleId: string }>();
  private readonly seen = new Set<string>();

  constructor(private readonly fallbackAt: Date = new Date()) {}

  conversationEvent(event: ConversationEvent): boolean {
    if (invalidReason(event) || this.seen.has(event.eventId)) return false;
    this.seen.add(event.eventId);
    const state = this.states.get(event.conversationId) ?? { handoffs: {} };
    const next = applyConversationEvent(state, event, this.fallbackAt);
    if (next) this.states.set(event.conversationId, next);
    return true;
  }

  knowledgeEvent(event: KnowledgeEvent): boolean {
    const key = knowledgeEventKey(event.eventId);
    if (invalidKnowledgeReason(event) || this.seen.has(key)) return false;
    this.seen.add(key);
    const change = knowledgeChange(event, this.fallbackAt);
    if (change?.kind === 'article')
      this.articles.set(
        change.article.articleId,
        mergeArticle(this.articles.get(change.article.articleId), change.article),
      );
    if (change?.kind === 'match' && !this.matches.has(change.handoffId))
      this.matches.set(change.handoffId, change);
    return true;
  }

  result(): FoldedReadModel {
    const conversations: ConversationRow[] = [];
    const handoffs = new Map<string, HandoffRow>();
    const reviews: ReviewRow[] = [];
    for (const state of this.states.values()) {
      if (state.row) conversations.push(state.row);
      reviews.push(...Object.values(state.reviews ?? {}));
      for (const h of Object.values(state.handoffs)) handoffs.set(h.handoffId, h);
    }
    for (const [handoffId, m] of this.matches) {
      const h = handoffs.get(handoffId) ?? blankHandoff(handoffId, m.conversationId);
      handoffs.set(handoffId, { ...h, matchedArticleId: h.matchedArticleId || m.articleId });
    }
    return {
      conversations,
      handoffs: [...handoffs.values()],
      reviews,
      articles: [...this.articles.values()],
      eventIds: [...this.seen],
    };
  }
}

/** Folds lists of events into the read model's rows (the rebuild's fold, for tests and benchmarks). */
export function foldEvents(
  conversationEvents: Iterable<ConversationEvent>,
  knowledgeEvents: Iterable<KnowledgeEvent> = [],
  fallbackAt = new Date(),
): FoldedReadModel {
  const fold = new ReadModelFold(fallbackAt);
  for (const e of conversationEvents) fold.conversationEvent(e);
  for (const e of knowledgeEvents) fold.knowledgeEvent(e);
  return fold.result();
}

export type { ReviewRow };
