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
  type ConversationState,
  type ReviewRow,
  type FoldedReadModel,
  type HandoffRow,
} from '../../domain/read-model.js';
import type { SummaryCounts, SummaryRange } from '../../domain/summary.js';
import type { PoolClient } from 'pg';
import { inTransaction, RowSql } from './row-sql.js';
import * as schema from './schema.js';
import { articles, conversations, handoffs, processedEvents, reviews } from './schema.js';

export type MetricsDatabase = Database<typeof schema>;

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
export const MIGRATIONS_FOLDER = join(__dirname, '..', '..', '..', 'migrations');

export function openMetricsDatabase(url: string): Promise<MetricsDatabase> {
  return openDatabase(url, { schema, migrationsFolder: MIGRATIONS_FOLDER, pgSchema: 'metrics' });
}

/** One log event to apply, with the time to use where the event carries none. */
export interface LoggedEvent {
  event: ConversationEvent;
  fallbackAt: Date;
}

/** The live path's statements (row-sql.ts): constant text, prepared once per connection. */
const rowSql = {
  conversations: new RowSql<ConversationRow>(conversations, 'conversation_id', 'conversation_id'),
  handoffs: new RowSql<HandoffRow>(handoffs, 'conversation_id', 'handoff_id', [
    // The matched article is the knowledge consumer's: a conversation event never overwrites it.
    'matched_article_id',
  ]),
  reviews: new RowSql<ReviewRow>(reviews, 'conversation_id', 'review_id'),
};
const RECORD_IDS = {
  name: 'metrics.processed_events.insert',
  text:
    'insert into "metrics"."processed_events" (event_id) select unnest($1::text[]) ' +
    'on conflict do nothing returning event_id',
};

/**
 * Applies log events (one partition's batch, in log order) in one transaction: their ids are
 * recorded first, and only the events whose id was new change rows, so a redelivered event never
 * counts twice. The rows of the batch's conversations are read once, folded in memory, and the
 * changed ones written back in one statement per table. Returns how many events were new.
 */
export async function applyConversationEventsToDatabase(
  { pool }: MetricsDatabase,
  batch: LoggedEvent[],
): Promise<number> {
  if (batch.length === 0) return 0;
  return inTransaction(pool, async (client) => {
    const ids = [...new Set(batch.map((b) => b.event.eventId))];
    const inserted = await client.query<{ event_id: string }>({ ...RECORD_IDS, values: [ids] });
    const fresh = new Set(inserted.rows.map((r) => r.event_id));
    const todo = batch.filter((b) => fresh.delete(b.event.eventId)); // the first of repeated ids
    if (todo.length === 0) return 0;
    const before = await readStates(client, [...new Set(todo.map((b) => b.event.conversationId))]);
    const after = new Map(before);
    for (const { event, fallbackAt } of todo) {
      const state = after.get(event.conversationId) ?? { handoffs: {} };
      const next = applyConversationEvent(state, event, fallbackAt);
      if (next?.row) after.set(event.conversationId, { ...state, ...next });
    }
    await writeChanges(client, before, after);
    return todo.length;
  });
}

/** Applies one log event (see applyConversationEventsToDatabase); false for a repeat. */
export async function applyConversationEventToDatabase(
  database: MetricsDatabase,
  event: ConversationEvent,
  fallbackAt: Date,
): Promise<boolean> {
  return (await applyConversationEventsToDatabase(database, [{ event, fallbackAt }])) === 1;
}

/** The read model's rows of these conversations, the conversations' locked for the transaction. */
async function readStates(
  client: PoolClient,
  ids: string[],
): Promise<Map<string, ConversationState>> {
  const rows = await rowSql.conversations.select(client, ids, true);
  const handoffRows = await rowSql.handoffs.select(client, ids);
  const reviewRows = await rowSql.reviews.select(client, ids);
  const states = new Map<string, ConversationState>(
    ids.map((id) => [id, { row: undefined, handoffs: {}, reviews: {} }]),
  );
  for (const row of rows) states.get(row.conversationId)!.row = row;
  for (const h of handoffRows) states.get(h.conversationId)!.handoffs[h.handoffId] = h;
  for (const r of reviewRows) states.get(r.conversationId)!.reviews![r.reviewId] = r;
  return states;
}

/** Writes the rows that differ between before and after: one upsert per table. */
async function writeChanges(
  client: PoolClient,
  before: Map<string, ConversationState>,
  after: Map<string, ConversationState>,
): Promise<void> {
  const rows: ConversationRow[] = [];
  const changedHandoffs: HandoffRow[] = [];
  const changedReviews: ReviewRow[] = [];
  for (const [id, state] of after) {
    const old = before.get(id);
    if (state.row && state.row !== old?.row) rows.push(state.row);
    for (const h of Object.values(state.handoffs))
      if (old?.handoffs[h.handoffId] !== h) changedHandoffs.push(h);
    for (const r of Object.values(state.reviews ?? {}))
      if (old?.reviews?.[r.reviewId] !== r) changedReviews.push(r);
  }
  await rowSql.reviews.upsert(client, changedReviews);
  await rowSql.conversations.upsert(client, rows);
  await rowSql.handoffs.upsert(client, changedHandoffs);
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
