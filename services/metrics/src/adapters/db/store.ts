import { join } from 'node:path';
import { and, eq, getTableColumns, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { ConversationEvent, KnowledgeEvent } from '@support/contracts';
import { openDatabase, type Database } from '@support/service-kit';
import {
  applyConversationEvent,
  knowledgeChange,
  knowledgeEventKey,
  type ConversationRow,
  type FoldedReadModel,
  type HandoffRow,
} from '../../domain/read-model.js';
import type { SummaryCounts, SummaryRange } from '../../domain/summary.js';
import * as schema from './schema.js';
import { articles, conversations, handoffs, processedEvents, reviews } from './schema.js';

export type MetricsDatabase = Database<typeof schema>;

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
export const MIGRATIONS_FOLDER = join(__dirname, '..', '..', '..', 'migrations');

export function openMetricsDatabase(url: string): Promise<MetricsDatabase> {
  return openDatabase(url, { schema, migrationsFolder: MIGRATIONS_FOLDER, pgSchema: 'metrics' });
}

/** Handoff columns a conversation event may write: the matched article is the knowledge consumer's. */
function handoffChanges(h: HandoffRow) {
  const { handoffId: _id, matchedArticleId: _matched, ...changes } = h;
  return changes;
}

/**
 * Applies one log event in one transaction: the event id is recorded first, and the rows change
 * only if the id was new, so a redelivered event never counts twice. Returns false for a repeat.
 */
export async function applyConversationEventToDatabase(
  { db }: MetricsDatabase,
  event: ConversationEvent,
  fallbackAt: Date,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(processedEvents)
      .values({ eventId: event.eventId })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0) return false;
    const [row] = await tx
      .select()
      .from(conversations)
      .where(eq(conversations.conversationId, event.conversationId))
      .for('update');
    const rows = await tx
      .select()
      .from(handoffs)
      .where(eq(handoffs.conversationId, event.conversationId));
    const before = Object.fromEntries(rows.map((h) => [h.handoffId, h]));
    const reviewRows = await tx
      .select()
      .from(reviews)
      .where(eq(reviews.conversationId, event.conversationId));
    const reviewsBefore = Object.fromEntries(reviewRows.map((r) => [r.reviewId, r]));
    const next = applyConversationEvent(
      { row, handoffs: before, reviews: reviewsBefore },
      event,
      fallbackAt,
    );
    if (!next?.row) return true;
    for (const r of Object.values(next.reviews ?? {})) {
      if (reviewsBefore[r.reviewId] === r) continue;
      const { reviewId: _review, ...changes } = r;
      await tx
        .insert(reviews)
        .values(r)
        .onConflictDoUpdate({ target: reviews.reviewId, set: changes });
    }
    const { conversationId: _id, ...changes } = next.row;
    await tx
      .insert(conversations)
      .values(next.row)
      .onConflictDoUpdate({ target: conversations.conversationId, set: changes });
    for (const h of Object.values(next.handoffs)) {
      if (before[h.handoffId] === h) continue;
      await tx
        .insert(handoffs)
        .values(h)
        .onConflictDoUpdate({ target: handoffs.handoffId, set: handoffChanges(h) });
    }
    return true;
  });
}

/**
 * Applies one knowledge event: an article keeps its first publication, a handoff the first article
 * its resolution matched (a placeholder row until its HandoffRequested arrives on the other topic).
 */
export async function applyKnowledgeEventToDatabase(
  { db }: MetricsDatabase,
  event: KnowledgeEvent,
  fallbackAt: Date,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(processedEvents)
      .values({ eventId: knowledgeEventKey(event.eventId) })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0) return false;
    const change = knowledgeChange(event, fallbackAt);
    if (change?.kind === 'article') {
      const { articleId: _id, ...rest } = change.article;
      await tx
        .insert(articles)
        .values(change.article)
        .onConflictDoUpdate({
          target: articles.articleId,
          set: rest,
          setWhere: sql`excluded.published_at < ${articles.publishedAt}`,
        });
    }
    if (change?.kind === 'match') {
      await tx
        .insert(handoffs)
        .values({
          handoffId: change.handoffId,
          conversationId: change.conversationId,
          matchedArticleId: change.articleId,
        })
        .onConflictDoUpdate({
          target: handoffs.handoffId,
          set: { matchedArticleId: change.articleId },
          setWhere: sql`${handoffs.matchedArticleId} = ''`,
        });
    }
    return true;
  });
}

/**
 * Writes many rows in few statements: each chunk as one JSON parameter that PostgreSQL turns into
 * the table's rows (json_populate_recordset), several times faster than a parameter per value.
 * Every column is written (a rebuild's rows are complete), dates as ISO strings.
 */
async function insertRows<T extends PgTable>(
  tx: { execute: MetricsDatabase['db']['execute'] },
  table: T,
  rows: Record<string, unknown>[],
  chunk = 5000,
): Promise<void> {
  const columns = Object.entries(getTableColumns(table));
  for (let i = 0; i < rows.length; i += chunk) {
    const json = rows
      .slice(i, i + chunk)
      .map((row) => Object.fromEntries(columns.map(([key, c]) => [c.name, row[key] ?? null])));
    await tx.execute(
      sql`insert into ${table} select * from json_populate_recordset(null::${table}, ${JSON.stringify(json)}::json)`,
    );
  }
}

/** Replaces the whole read model (a rebuild) in one transaction: readers see the old one until it commits. */
export async function replaceAll({ db }: MetricsDatabase, model: FoldedReadModel): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`truncate table ${processedEvents}, ${conversations}, ${handoffs}, ${reviews}, ${articles}`,
    );
    // A million ids as one array parameter per 50,000 rather than a parameter each.
    for (let i = 0; i < model.eventIds.length; i += 50_000) {
      const ids = model.eventIds.slice(i, i + 50_000);
      await tx.execute(
        sql`insert into ${processedEvents} (event_id) select unnest(${sql.param(ids)}::text[])`,
      );
    }
    await insertRows(
      tx,
      conversations,
      model.conversations as unknown as Record<string, unknown>[],
    );
    await insertRows(tx, handoffs, model.handoffs as unknown as Record<string, unknown>[]);
    await insertRows(tx, reviews, model.reviews as unknown as Record<string, unknown>[]);
    await insertRows(tx, articles, model.articles as unknown as Record<string, unknown>[]);
  });
}

/** Counts over the conversations started in the range (from inclusive, to exclusive). */
export async function countSummary(
  { db }: MetricsDatabase,
  range: SummaryRange,
): Promise<SummaryCounts> {
  const where: SQL[] = [];
  if (range.from) where.push(gte(conversations.startedAt, range.from));
  if (range.to) where.push(lt(conversations.startedAt, range.to));
  const [counts] = await db
    .select({
      conversations: sql<number>`count(*)::int`,
      aiReplies: sql<number>`coalesce(sum(${conversations.aiReplies}), 0)::int`,
      aiResolutions: sql<number>`(count(*) filter (where ${conversations.resolvedAs} = 'ai'))::int`,
      humanResolutions: sql<number>`(count(*) filter (where ${conversations.resolvedAs} = 'human'))::int`,
      handoffs: sql<number>`coalesce(sum(${conversations.handoffs}), 0)::int`,
      conversationsWithHandoff: sql<number>`(count(*) filter (where ${conversations.handoffs} > 0))::int`,
      assigned: sql<number>`(count(*) filter (where ${conversations.assignedAt} is not null))::int`,
    })
    .from(conversations)
    .where(where.length ? and(...where) : undefined);
  return counts!;
}

export async function conversationRow(
  { db }: MetricsDatabase,
  conversationId: string,
): Promise<ConversationRow | undefined> {
  const [row] = await db
    .select()
    .from(conversations)
    .where(eq(conversations.conversationId, conversationId));
  return row;
}
