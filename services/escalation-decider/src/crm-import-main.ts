import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Bus, Topics } from '@support/bus';
import { AccountSchema, fromJson, type Account, type JsonValue } from '@support/contracts';
import { baseConfigSchema, loadConfig } from '@support/service-kit';
import { SERVICE } from './config.js';

/**
 * `npm run crm:import -- accounts.json [--delete <account id> ...]`: a minimal
 * CRM feed. Publishes each account of a JSON file (an array of Account
 * messages in protobuf JSON, or `{ "accounts": [...] }`) onto the compacted
 * crm.accounts topic, keyed by account id; `--delete` publishes a tombstone.
 * Nothing is published when any account is invalid; the error names it.
 */
export function parseAccounts(text: string): Account[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { accounts?: unknown })?.accounts;
  if (!Array.isArray(list))
    throw new Error('expected an array of accounts or { "accounts": [...] }');
  const seen = new Set<string>();
  return list.map((item, i) => {
    let account: Account;
    try {
      account = fromJson(AccountSchema, item as JsonValue);
    } catch (err) {
      throw new Error(`accounts[${i}]: ${(err as Error).message}`);
    }
    if (!account.accountId) throw new Error(`accounts[${i}].accountId: required`);
    if (seen.has(account.accountId))
      throw new Error(`accounts[${i}].accountId: "${account.accountId}" appears twice`);
    seen.add(account.accountId);
    return account;
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { delete: { type: 'string', multiple: true, default: [] } },
  });
  if (!positionals.length && !values.delete.length)
    throw new Error('usage: crm-import <accounts.json> [--delete <account id> ...]');
  const accounts = (
    await Promise.all(
      positionals.map(async (file) => {
        try {
          return parseAccounts(await readFile(file, 'utf8'));
        } catch (err) {
          throw new Error(`${file}: ${(err as Error).message}`);
        }
      }),
    )
  ).flat();
  const config = loadConfig(baseConfigSchema);
  const bus = new Bus({ service: `${SERVICE}-crm-import`, brokers: config.KAFKA_BROKERS });
  try {
    await bus.ensureTopics([Topics.accounts]);
    await bus.publish(
      ...accounts.map((value) => ({ topic: Topics.accounts, key: value.accountId, value })),
    );
    if (values.delete.length) {
      const producer = bus.kafka.producer();
      await producer.connect();
      await producer.send({
        topic: Topics.accounts.name,
        messages: values.delete.map((key) => ({ key, value: null })),
      });
      await producer.disconnect();
    }
  } finally {
    await bus.close();
  }
  console.log(
    `crm.accounts: ${accounts.length} account(s) published, ${values.delete.length} removed`,
  );
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
