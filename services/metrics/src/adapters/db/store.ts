import { join } from 'node:path';
import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { ConversationEvent } from '@support/contracts';
import { openDatabase, type Database } from '@support/service-kit';
import { applyEvent, type ConversationRow } from '../../domain/conversation-row.js';
import type { SummaryCounts, SummaryRange } from '../../domain/summary.js';
import * as schema from './schema.js';
import { conversations, processedEvents } from './schema.js';

export type MetricsDatabase = Database<typeof schema>;

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
export const MIGRATIONS_FOLDER = join(__dirname, '..', '..', '..', 'migrations');

export function openMetricsDatabase(url: string): Promise<MetricsDatabase> {
  return openDatabase(url, { schema, migrationsFolder: MIGRATIONS_FOLDER, pgSchema: 'metrics' });
}

/**
 * Applies one log event in one transaction: the event id is recorded first,
 * and the conversation's row changes only if the id was new, so a redelivered
 * event never counts twice. Returns false for a repeat.
 */
export async function applyToDatabase(
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
    const next = applyEvent(row, event, fallbackAt);
    if (next) {
      const { conversationId: _id, ...changes } = next;
      await tx
        .insert(conversations)
        .values(next)
        .onConflictDoUpdate({ target: conversations.conversationId, set: changes });
    }
    return true;
  });
}

/** Replaces the whole read model (a rebuild) in one transaction: readers see the old one until it commits. */
export async function replaceAll(
  { db }: MetricsDatabase,
  rows: ConversationRow[],
  eventIds: string[],
): Promise<void> {
  const CHUNK = 1000;
  await db.transaction(async (tx) => {
    await tx.execute(sql`truncate table ${processedEvents}, ${conversations}`);
    for (let i = 0; i < eventIds.length; i += CHUNK) {
      await tx
        .insert(processedEvents)
        .values(eventIds.slice(i, i + CHUNK).map((eventId) => ({ eventId })));
    }
    for (let i = 0; i < rows.length; i += CHUNK)
      await tx.insert(conversations).values(rows.slice(i, i + CHUNK));
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
