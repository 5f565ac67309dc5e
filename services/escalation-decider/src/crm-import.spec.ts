import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAccounts } from './crm-import-main';

describe('the CRM import file', () => {
  it('reads the demo accounts, every field typed', () => {
    const accounts = parseAccounts(
      readFileSync(join(__dirname, '..', 'seed', 'accounts.json'), 'utf8'),
    );
    expect(accounts.length).toBeGreaterThanOrEqual(5);
    const helios = accounts.find((a) => a.accountId === 'acct-helios')!;
    expect(helios).toMatchObject({ tier: 'enterprise', vip: true, slaFirstResponseMinutes: 60 });
    expect(helios.openInvoices[0]).toMatchObject({ invoiceId: 'INV-2031', amount: 1250 });
  });

  it('accepts a bare array and snake_case field names', () => {
    const [a] = parseAccounts('[{"account_id":"a-1","at_risk":true,"monthly_value":"120.5"}]');
    expect(a).toMatchObject({ accountId: 'a-1', atRisk: true, monthlyValue: 120.5 });
  });

  it('names the account and field that is wrong, and rejects the whole file', () => {
    expect(() => parseAccounts('[{"accountId":"a"},{"accountId":"b","vip":"often"}]')).toThrow(
      /accounts\[1\]/,
    );
    expect(() => parseAccounts('[{"name":"no id"}]')).toThrow('accounts[0].accountId: required');
    expect(() => parseAccounts('[{"accountId":"a"},{"accountId":"a"}]')).toThrow(/appears twice/);
    expect(() => parseAccounts('{"rows":[]}')).toThrow(/expected an array/);
    expect(() => parseAccounts('{oops')).toThrow(/not valid JSON/);
  });
});
