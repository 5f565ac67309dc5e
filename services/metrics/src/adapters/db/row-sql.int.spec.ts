import { randomUUID } from 'node:crypto';
import type { HandoffRow } from '../../domain/read-model';
import { inTransaction, RowSql } from './row-sql';
import { handoffs } from './schema';
import { openMetricsDatabase, type MetricsDatabase } from './store';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_test';

describe('a read-model table written and read through constant SQL', () => {
  let database: MetricsDatabase;
  const rowSql = new RowSql<HandoffRow>(handoffs, 'conversation_id', 'handoff_id', [
    'matched_article_id',
  ]);
  const conversationId = `row-sql-${randomUUID()}`;
  const row: HandoffRow = {
    handoffId: `h-${conversationId}`,
    conversationId,
    requestedAt: new Date('2026-11-02T09:00:00.123Z'),
    triggerAt: null,
    rules: ['explicit_request', 'negative_sentiment'],
    triggers: [{ rule: 'negative_sentiment', value: -0.61, threshold: -0.5 }],
    priority: 'high',
    policyVersion: 'v7',
    topic: 'billing',
    assignments: 2,
    assignedAt: new Date('2026-11-02T09:00:01.5Z'),
    acceptedAt: null,
    firstReplyAt: null,
    falseMarked: true,
    matchedArticleId: 'kb-1',
    handedBackAt: null,
    resolvedAt: new Date('2026-11-02T10:00:00Z'),
  };

  beforeAll(async () => {
    database = await openMetricsDatabase(url);
  });
  afterAll(async () => {
    await database.pool.query('delete from metrics.handoffs where conversation_id = $1', [
      conversationId,
    ]);
    await database.pool.end();
  });

  it('gives back every column as written: dates, nulls, arrays, json, numbers and booleans', async () => {
    await inTransaction(database.pool, (client) => rowSql.upsert(client, [row]));
    const [read] = await inTransaction(database.pool, (c) => rowSql.select(c, [conversationId]));
    expect(read).toEqual(row);
    expect(read!.requestedAt).toBeInstanceOf(Date);
  });

  it('overwrites an existing row but for the columns it keeps, and rolls back on failure', async () => {
    const changed = { ...row, priority: 'urgent', assignments: 3, matchedArticleId: 'other' };
    await inTransaction(database.pool, (client) => rowSql.upsert(client, [changed]));
    const [read] = await inTransaction(database.pool, (c) => rowSql.select(c, [conversationId]));
    expect(read).toEqual({ ...changed, matchedArticleId: 'kb-1' });

    const failing = inTransaction(database.pool, async (client) => {
      await rowSql.upsert(client, [{ ...changed, priority: 'lost' }]);
      throw new Error('after the write');
    });
    await expect(failing).rejects.toThrow('after the write');
    const [kept] = await inTransaction(database.pool, (c) => rowSql.select(c, [conversationId]));
    expect(kept!.priority).toBe('urgent');
  });
});
