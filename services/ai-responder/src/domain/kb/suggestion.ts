import { z } from 'zod';
import type { LearningState } from '../projection.js';
import { stemSimilarity } from '@support/text';

/**
 * The learning loop's pure core: what a person's resolution of a handed-off
 * conversation teaches (a suggested article), and whether it is new, a
 * near-duplicate of a pending suggestion, or something a published article
 * already said (a false escalation).
 */

export const SUGGESTION_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];
export type SuggestionOrigin = 'resolution' | 'agent';

/** Where a suggestion came from: one handoff of one conversation. */
export interface SuggestionSourceView {
  conversationId: string;
  handoffId: string;
  agentId: string;
  /** The customer's question that led to the handoff. */
  question: string;
}

/** A suggested article made from a resolution, before it is compared with what exists. */
export interface SuggestionDraft {
  title: string;
  body: string;
  tags: string[];
  topic: string;
  locale: string;
  source: SuggestionSourceView;
}

export type ResolutionLesson =
  { kind: 'suggestion'; draft: SuggestionDraft } | { kind: 'nothing'; reason: string };

const TITLE_MAX = 200;
const GREETING =
  /^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|dear [\w ]{0,30}?)(?: there| team| all| everyone| support)?\b[\s,!.:-]*/i;
const THANKS = /[\s,.!-]*(?:thanks?(?: you)?(?: (?:so|very) much)?|thx|cheers|ty)[\s,.!]*$/i;

/**
 * The customer's question as an article title: one line, without a greeting
 * or a closing thanks, starting with a capital, at most 200 characters (cut at
 * a word).
 */
export function cleanQuestion(text: string): string {
  let t = text.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 2; i++) t = t.replace(GREETING, '').trim();
  t = t.replace(THANKS, '').trim();
  if (/^please\b[\s,]*/i.test(t) && t.length > 12) t = t.replace(/^please\b[\s,]*/i, '');
  if (t.length > TITLE_MAX) {
    const cut = t.slice(0, TITLE_MAX);
    const space = cut.lastIndexOf(' ');
    t = `${(space > 80 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
  }
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

/**
 * What a person's resolution teaches, from the conversation folded through
 * its ConversationResolved: the question that escalated (the handoff's
 * triggering message) as the title; what the person said while they held the
 * conversation for this handoff, and their resolve (or handback) note, as the
 * body; the topic the AI's proposal or the briefing named. Nothing when no
 * person held the handoff or they said nothing.
 */
export function lessonFromResolution(
  state: LearningState,
  resolution: { resolvedBy: string; note: string },
): ResolutionLesson {
  const handoff = state.handoff;
  if (!handoff) return { kind: 'nothing', reason: 'no handoff' };
  if (state.status !== 'resolved_by_human') return { kind: 'nothing', reason: 'not by a person' };
  const stretches = (state.humanStretches ?? []).filter((s) => s.handoffId === handoff.handoffId);
  if (stretches.length === 0) return { kind: 'nothing', reason: 'no person held the handoff' };
  const within = (at: string) => stretches.some((s) => at >= s.from && (!s.to || at <= s.to));
  const replies = state.transcript
    .filter((l) => l.speaker === 'agent' && within(l.at))
    .map((l) => l.text.trim())
    .filter(Boolean);
  const notes = [...stretches.map((s) => s.note), resolution.note]
    .map((n) => n.trim())
    .filter((n, i, all) => n && all.indexOf(n) === i && !replies.includes(n));
  if (replies.length === 0 && notes.length === 0)
    return { kind: 'nothing', reason: 'the person wrote nothing' };
  const trigger = state.messages.find((m) => m.messageId === handoff.messageId);
  const before = state.messages.filter((m) => m.at <= handoff.requestedAt).at(-1);
  const question = cleanQuestion((trigger ?? before)?.text ?? '');
  if (!question) return { kind: 'nothing', reason: 'no question' };
  const proposals = state.messages.map((m) => m.proposal).filter((p) => p !== undefined);
  const topic =
    trigger?.proposal?.topic || [...proposals].reverse().find((p) => p.topic)?.topic || '';
  const intent = trigger?.proposal?.intent ?? '';
  const body = [...replies, ...notes.map((n) => `Resolution note: ${n}`)].join('\n\n');
  const agentId = stretches.at(-1)!.agentId || resolution.resolvedBy;
  return {
    kind: 'suggestion',
    draft: {
      title: question,
      body,
      tags: [...new Set([topic, intent].filter((t) => t && t !== 'out_of_scope'))],
      topic,
      locale: state.locale || 'en',
      source: {
        conversationId: state.conversationId,
        handoffId: handoff.handoffId,
        agentId,
        question,
      },
    },
  };
}

/** How alike two resolutions (or a resolution and an article) are, with the parts it is made of. */
export interface Similarity {
  /** Sentence-vector cosine of question plus answer (0..1). */
  meaning: number;
  /** Shared content words of the questions (0..1, as stemSimilarity). */
  words: number;
  /** The mean of the two: the number thresholds are set against. */
  score: number;
}

/**
 * The similarity used for near-duplicates: the sentence encoder alone takes
 * "recurring supplier payments" and "paying a supplier with credits" for the
 * same thing, words alone miss paraphrases; their mean separates both.
 */
export function similarity(meaning: number, questionA: string, questionB: string): Similarity {
  const m = Math.max(0, Math.min(1, meaning));
  const words = stemSimilarity(questionA, questionB);
  return { meaning: m, words, score: (m + words) / 2 };
}

export interface Thresholds {
  /** At or above: merged into the pending suggestion. */
  merge: number;
  /** At or above: the published article already answered it (no suggestion). */
  match: number;
}

export type Decision =
  | { kind: 'merge'; suggestionId: string; similarity: number }
  | { kind: 'matched'; articleId: string; similarity: number }
  | { kind: 'create' };

/**
 * What a new resolution becomes: merged into the most similar pending
 * suggestion when it is close enough; else, when a published article already
 * says it, a matched resolution (no suggestion); else a new suggestion.
 * Pending suggestions come first: they stand for a gap people see now.
 */
export function decide(
  pending: { suggestionId: string; similarity: number }[],
  published: { articleId: string; similarity: number }[],
  thresholds: Thresholds,
): Decision {
  const best = <T extends { similarity: number }>(list: T[]) =>
    list.reduce<T | undefined>((b, c) => (!b || c.similarity > b.similarity ? c : b), undefined);
  const dup = best(pending);
  if (dup && dup.similarity >= thresholds.merge)
    return { kind: 'merge', suggestionId: dup.suggestionId, similarity: dup.similarity };
  const article = best(published);
  if (article && article.similarity >= thresholds.match)
    return { kind: 'matched', articleId: article.articleId, similarity: article.similarity };
  return { kind: 'create' };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a suggestion made or merged at `now` expires if nobody acts: `ttlDays` later. */
export function expiryFrom(now: Date, ttlDays: number): string {
  return new Date(now.getTime() + ttlDays * DAY_MS).toISOString();
}

/** A source is kept once per conversation and handoff. */
export function withSource(
  sources: SuggestionSourceView[],
  source: SuggestionSourceView,
): SuggestionSourceView[] {
  const known = sources.some(
    (s) => s.conversationId === source.conversationId && s.handoffId === source.handoffId,
  );
  return known ? sources : [...sources, source];
}

/** The reviewer's edits on approval (an absent or empty field keeps the suggestion's own). */
export interface ReviewEdits {
  title?: string;
  body?: string;
  tags?: string[];
}

/** The article as published from a suggestion and the reviewer's edits. */
export function publishedText(
  suggestion: { title: string; body: string; tags: string[] },
  edits: ReviewEdits,
): { title: string; body: string; tags: string[] } {
  const tags = edits.tags?.map((t) => t.trim()).filter(Boolean);
  return {
    title: edits.title?.trim() || suggestion.title,
    body: edits.body?.trim() || suggestion.body,
    tags: [...new Set(tags?.length ? tags : suggestion.tags)],
  };
}

export const suggestionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'must be a suggestion id');

export const suggestionListQuery = z.strictObject({
  status: z.enum(SUGGESTION_STATUSES).default('pending'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const approveSuggestionBody = z.strictObject({
  title: z.string().trim().min(1, 'must not be empty').max(300).optional(),
  body: z.string().trim().min(1, 'must not be empty').max(50_000).optional(),
  tags: z.array(z.string().trim().min(1).max(60)).max(20).optional(),
});

export const rejectSuggestionBody = z.strictObject({
  reason: z.string().trim().max(2000, 'at most 2,000 characters').default(''),
});

/**
 * Vectors of items in their order: the one stored for an item where there is one, the others
 * embedded together in one call (none when every item has its vector).
 */
export async function storedOrEmbedded<T>(
  items: readonly T[],
  stored: (item: T) => number[] | undefined,
  embed: (items: T[]) => Promise<number[][]>,
): Promise<number[][]> {
  const found = items.map(stored);
  const missing = items.filter((_, i) => !found[i]);
  const fresh = missing.length ? await embed(missing) : [];
  let next = 0;
  return found.map((v) => v ?? fresh[next++]);
}
