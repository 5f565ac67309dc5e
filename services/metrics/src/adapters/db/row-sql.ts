import { getTableColumns } from 'drizzle-orm';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type { PoolClient } from 'pg';

/**
 * The SQL of one read-model table for the live consumer's batches, written once: the statements'
 * text never changes, so each is prepared once per connection (a named statement) and a batch
 * costs one parameter per statement instead of a query built value by value. Rows go in as one
 * JSON array that PostgreSQL turns into the table's rows (json_populate_recordset) and come back
 * with their columns renamed to the row's properties; the values are PostgreSQL's own (Dates for
 * timestamps, numbers, booleans, arrays, parsed jsonb), as the query builder gives them.
 */
export class RowSql<Row extends object> {
  /** [property, column] for every column, in the table's order. */
  private readonly columns: [string, string][];
  private readonly statements: Record<
    'select' | 'selectForUpdate' | 'upsert',
    { name: string; text: string }
  >;

  constructor(
    table: PgTable,
    /** The column rows are selected by (a conversation id). */
    selectBy: string,
    /** The primary key's column. */
    key: string,
    /** Columns an upsert never overwrites (beside the key). */
    keep: string[] = [],
  ) {
    const config = getTableConfig(table);
    const name = `"${config.schema ?? 'public'}"."${config.name}"`;
    this.columns = Object.entries(getTableColumns(table)).map(([prop, c]) => [prop, c.name]);
    const set = this.columns
      .map(([, column]) => column)
      .filter((column) => column !== key && !keep.includes(column))
      .map((column) => `"${column}" = excluded."${column}"`)
      .join(', ');
    const select = `select * from ${name} where "${selectBy}" = any($1::text[])`;
    const statement = (kind: string, text: string) => ({ name: `${name}.${kind}`, text });
    this.statements = {
      select: statement('select', select),
      selectForUpdate: statement('select-for-update', `${select} for update`),
      upsert: statement(
        'upsert',
        `insert into ${name} select * from json_populate_recordset(null::${name}, $1::json) ` +
          `on conflict ("${key}") do update set ${set}`,
      ),
    };
  }

  /** The rows whose `selectBy` column is one of `ids`; locked for the transaction with `forUpdate`. */
  async select(client: PoolClient, ids: string[], forUpdate = false): Promise<Row[]> {
    const { rows } = await client.query<Record<string, unknown>>({
      ...this.statements[forUpdate ? 'selectForUpdate' : 'select'],
      values: [ids],
    });
    return rows.map((r) => {
      const row: Record<string, unknown> = {};
      for (const [prop, column] of this.columns) row[prop] = r[column];
      return row as Row;
    });
  }

  /** Inserts rows, or overwrites every column but the key and `keep` of those that exist. */
  async upsert(client: PoolClient, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const json = rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [prop, column] of this.columns)
        out[column] = (row as Record<string, unknown>)[prop] ?? null;
      return out;
    });
    await client.query({ ...this.statements.upsert, values: [JSON.stringify(json)] });
  }
}

/** Runs `work` in one transaction on a connection of its own, rolled back when it throws. */
export async function inTransaction<T>(
  pool: { connect(): Promise<PoolClient> },
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    // A connection that could not even roll back is closed, not handed to the next caller.
    client.release(broken);
  }
}
