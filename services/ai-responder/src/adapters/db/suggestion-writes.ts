import { and, eq, sql } from 'drizzle-orm';
import { deterministicId } from '@support/bus';
import {
  expiryFrom,
  withSource,
  type SuggestionDraft,
  type SuggestionOrigin,
  type SuggestionSourceView,
} from '../../domain/kb/suggestion.js';
import type { Db } from './knowledge-base.js';
import { enqueue, knowledgeEvent } from './outbox.js';
import { kbResolutions, kbSuggestions, type SuggestionRow } from './schema.js';

/**
 * What the learning loop writes of a suggestion, each with its knowledge event in the same
 * transaction (the outbox): a new suggestion, a resolution merged into a pending one, a
 * resolution an article already answered. kb_resolutions remembers every handoff's outcome, so
 * a resolution read again from the log teaches once.
 */

/** A vector and the model that made it. */
export interface Embedded {
  model: string;
  vector: number[];
}

/** The conversation and handoff a resolution came from: one outcome each. */
const resolutionKey = (src: SuggestionSourceView) => ({
  conversationId: src.conversationId,
  handoffId: src.handoffId,
});

/** Whether this resolution (conversation and handoff) has already been learnt from. */
export async function resolutionKnown(db: Db, src: SuggestionSourceView): Promise<boolean> {
  const [row] = await db
    .select({ outcome: kbResolutions.outcome })
    .from(kbResolutions)
    .where(
      and(
        eq(kbResolutions.conversationId, src.conversationId),
        eq(kbResolutions.handoffId, src.handoffId),
      ),
    );
  return !!row;
}

/** A new pending suggestion and its suggestionCreated event; false when the id exists already. */
export async function insertSuggestion(
  tx: Db,
  suggestion: {
    suggestionId: string;
    draft: SuggestionDraft;
    origin: SuggestionOrigin;
    embedded: Embedded;
    articleId?: string;
  },
  expiresAt: string,
): Promise<boolean> {
  const { suggestionId, draft, origin, embedded, articleId } = suggestion;
  const inserted = await tx
    .insert(kbSuggestions)
    .values({
      suggestionId,
      title: draft.title,
      body: draft.body,
      tags: draft.tags,
      topic: draft.topic,
      locale: draft.locale,
      origin,
      sources: [draft.source],
      vector: embedded.vector,
      vectorModel: embedded.model,
      expiresAt,
      ...(articleId ? { articleId } : {}),
    })
    .onConflictDoNothing()
    .returning({ id: kbSuggestions.suggestionId });
  if (inserted.length === 0) return false;
  await enqueue(tx, [
    knowledgeEvent(deterministicId('suggestion-created', suggestionId), suggestionId, {
      case: 'suggestionCreated',
      value: {
        suggestionId,
        title: draft.title,
        body: draft.body,
        tags: draft.tags,
        topic: draft.topic,
        source: draft.source,
        expiresAt,
        origin,
      },
    }),
  ]);
  return true;
}

/** A resolution that made a new suggestion: the suggestion, and the resolution's outcome. */
export async function createFromResolution(
  tx: Db,
  draft: SuggestionDraft,
  embedded: Embedded,
  ttlDays: number,
): Promise<string> {
  const src = draft.source;
  const suggestionId = deterministicId('suggestion', src.conversationId, src.handoffId);
  const expiresAt = expiryFrom(new Date(), ttlDays);
  await insertSuggestion(tx, { suggestionId, draft, origin: 'resolution', embedded }, expiresAt);
  await tx
    .insert(kbResolutions)
    .values({ ...resolutionKey(src), outcome: 'created', suggestionId });
  return suggestionId;
}

/**
 * A resolution merged into a near-duplicate pending suggestion: one more occurrence and
 * source, its expiry pushed back. Returns the occurrences now counted.
 */
export async function mergeResolution(
  tx: Db,
  target: SuggestionRow,
  src: SuggestionSourceView,
  similarity: number,
  ttlDays: number,
): Promise<number> {
  const sources = withSource(target.sources as SuggestionSourceView[], src);
  const expiresAt = expiryFrom(new Date(), ttlDays);
  const occurrences = target.occurrences + 1;
  await tx
    .update(kbSuggestions)
    .set({ occurrences, sources, expiresAt, updatedAt: sql`now()` })
    .where(eq(kbSuggestions.suggestionId, target.suggestionId));
  await tx.insert(kbResolutions).values({
    ...resolutionKey(src),
    outcome: 'merged',
    suggestionId: target.suggestionId,
    similarity,
  });
  const eventId = deterministicId(
    'suggestion-merged',
    target.suggestionId,
    src.conversationId,
    src.handoffId,
  );
  await enqueue(tx, [
    knowledgeEvent(eventId, target.suggestionId, {
      case: 'suggestionMerged',
      value: { suggestionId: target.suggestionId, source: src, similarity, occurrences, expiresAt },
    }),
  ]);
  return occurrences;
}

/** A resolution a published article already answered: no suggestion, a resolutionMatched event (a false escalation). */
export async function recordMatch(
  tx: Db,
  src: SuggestionSourceView,
  match: { articleId: string; similarity: number; topic: string },
): Promise<void> {
  const { articleId, similarity, topic } = match;
  await tx
    .insert(kbResolutions)
    .values({ ...resolutionKey(src), outcome: 'matched', articleId, similarity });
  await enqueue(tx, [
    knowledgeEvent(
      deterministicId('resolution-matched', src.conversationId, src.handoffId),
      articleId,
      {
        case: 'resolutionMatched',
        value: { ...resolutionKey(src), articleId, similarity, topic },
      },
    ),
  ]);
}
