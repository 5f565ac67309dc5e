import type { Account, FieldIssue } from '@support/contracts';

/** An account id as a CRM spells it: letters, digits and . _ : @ -, up to 200. */
export const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const CURRENCY = /^[A-Z]{3}$/;
const INVOICE_STATUSES = ['open', 'overdue', 'disputed'];

const isTime = (s: string) => !Number.isNaN(Date.parse(s));

/** The path's account id: a 400 names `id`. */
export function accountIdIssues(id: string): FieldIssue[] {
  return ACCOUNT_ID.test(id)
    ? []
    : [
        {
          field: 'id',
          rule: 'format',
          message: 'must be 1-200 letters, digits or . _ : @ - (starting with a letter or digit)',
        },
      ];
}

/**
 * What the decider's rules need to be able to trust in an account written
 * over HTTP (the body of PUT /v1/accounts/:id, protobuf JSON): the id of the
 * path, amounts that are amounts, ISO currencies, invoice statuses the
 * dispute rule knows, and times that are times.
 */
export function accountIssues(account: Account, pathId: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const add = (field: string, rule: string, message: string) =>
    issues.push({ field, rule, message });
  if (account.accountId && account.accountId !== pathId)
    add('accountId', 'match', `must be the account id of the path ("${pathId}") or left out`);
  if (!Number.isFinite(account.monthlyValue) || account.monthlyValue < 0)
    add('monthlyValue', 'min', 'must be a number of 0 or more');
  if (account.currency && !CURRENCY.test(account.currency))
    add('currency', 'format', 'must be an ISO 4217 code, e.g. EUR');
  if (account.slaFirstResponseMinutes < 0)
    add('slaFirstResponseMinutes', 'min', 'must be 0 (no SLA) or more');
  if (account.updatedAt && !isTime(account.updatedAt))
    add('updatedAt', 'format', 'must be an RFC 3339 time');
  account.openInvoices.forEach((invoice, i) => {
    const at = `openInvoices[${i}]`;
    if (!invoice.invoiceId) add(`${at}.invoiceId`, 'required', 'is required');
    if (!Number.isFinite(invoice.amount) || invoice.amount < 0)
      add(`${at}.amount`, 'min', 'must be a number of 0 or more');
    if (invoice.currency && !CURRENCY.test(invoice.currency))
      add(`${at}.currency`, 'format', 'must be an ISO 4217 code, e.g. EUR');
    if (!INVOICE_STATUSES.includes(invoice.status))
      add(`${at}.status`, 'enum', `must be one of ${INVOICE_STATUSES.join(', ')}`);
    if (invoice.dueDate && !isTime(invoice.dueDate))
      add(`${at}.dueDate`, 'format', 'must be an RFC 3339 date');
  });
  account.openIncidents.forEach((incident, i) => {
    const at = `openIncidents[${i}]`;
    if (!incident.incidentId) add(`${at}.incidentId`, 'required', 'is required');
    if (incident.startedAt && !isTime(incident.startedAt))
      add(`${at}.startedAt`, 'format', 'must be an RFC 3339 time');
  });
  return issues;
}
