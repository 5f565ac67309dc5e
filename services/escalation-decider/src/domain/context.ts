import type { Account } from '@support/contracts';
import type { ConversationState, MessageView } from '@support/conversation';
import type { HumanRequestDetector } from './human-request.js';

export type AccountLookup = 'found' | 'unknown' | 'unavailable' | 'none';

/** What the decider knows besides the conversation: the account and the page the customer is on. */
export interface DecisionContext {
  account?: Account;
  accountLookup: AccountLookup;
  /** The page URL the conversation carries ('' when the channel sent none). */
  pageUrl: string;
  /** Finds a request for a person in the message (default: the lexicon layers alone, no classifier). */
  detectHumanRequest?: HumanRequestDetector;
}

export const NO_CONTEXT: DecisionContext = { accountLookup: 'none', pageUrl: '' };

/** The path of a page URL ('' for a missing or unparsable URL). */
export function pagePath(url: string): string {
  if (!url) return '';
  // Some channels send only the path.
  if (url.startsWith('/')) return url.split(/[?#]/)[0] ?? '';
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/** The customer disputes a charge, in the main European languages. */
const DISPUTE =
  /\b(disput\w*|chargeback|contest\w*|charged (me )?(twice|double|two times)|double[- ]charged|overcharg\w*|wrong(ly)? (charge|charged|amount|invoice)|incorrect (charge|amount|invoice)|did(n'?t| not) (authori[sz]e|order|agree to)|unauthori[sz]ed charge|refund|money back|reembols\w*|cobr\w* (dos veces|de más|doble)|disputa|litige|contester|prélev[\wé]* deux fois|rembours\w*|factur\w* (erronée|incorrecte)|doppelt (abgebucht|berechnet)|falsch(e|en)? (rechnung|betrag|abbuchung)|rückerstattung|widerspruch|zurückbuchung|addebit\w* (due volte|doppio)|rimbors\w*|contestare|dubbel (afgeschreven|betaald)|terugbetaling|cobrad[oa] (duas vezes|a mais)|estorno)\b/i;

const MONEY =
  /(?:[€$£]|\b(?:eur|usd|gbp|chf)\b)\s?(\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)|(\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s?(?:[€$£]|\b(?:eur|euros?|usd|dollars?|gbp|pounds?|chf)\b)/gi;

/** "1.234,50" and "1,234.50" are both 1234.5; "1,500" is 1500. */
export function parseAmount(raw: string): number {
  const s = raw.replace(/\s/g, '');
  const decimal = /[.,](\d{1,2})$/.exec(s);
  const whole = (decimal ? s.slice(0, decimal.index) : s).replace(/[.,]/g, '');
  return Number(`${whole}.${decimal?.[1] ?? '0'}`);
}

/** Money amounts the text names, with a currency sign or code. */
export function amountsIn(text: string): number[] {
  return [...text.matchAll(MONEY)]
    .map((m) => parseAmount(m[1] ?? m[2] ?? ''))
    .filter((n) => Number.isFinite(n));
}

/**
 * The amount of the charge the customer disputes in this message, 0 when they
 * dispute nothing. The disputed invoice, when the customer named one the
 * account has open; else the largest amount they wrote; else the account's
 * invoices already marked disputed.
 */
export function disputeAmount(
  state: ConversationState,
  message: MessageView,
  account: Account | undefined,
): number {
  const invoices = account?.openInvoices ?? [];
  const disputedInCrm = invoices.filter((i) => i.status.toLowerCase() === 'disputed');
  if (!DISPUTE.test(message.text)) return 0;
  const named = new Set(
    (state.details ?? [])
      .filter((d) => d.name === 'invoice_or_order_number')
      .map((d) => d.value.toUpperCase()),
  );
  for (const inv of invoices) {
    const id = inv.invoiceId.toUpperCase();
    if (named.has(id) || message.text.toUpperCase().includes(id)) return inv.amount;
  }
  const written = amountsIn(message.text);
  if (written.length) return Math.max(...written);
  return disputedInCrm.reduce((sum, i) => sum + i.amount, 0);
}
