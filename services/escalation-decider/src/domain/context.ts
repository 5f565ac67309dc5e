import type { Account } from '@support/contracts';
import { lastHandbackAt, type ConversationState, type MessageView } from '@support/conversation';
import { amountsIn } from './amounts.js';
import { disputesCharge } from './dispute.js';
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
  /**
   * Where the AI responder stands when the wait for its proposal has run out:
   * `behind`, it has not yet read as far as the message (crashed, restarting,
   * rebalancing or lagging); `past`, it has, and no proposal came.
   */
  aiResponder?: { position: 'behind' | 'past'; waitedMs: number };
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

/**
 * The amount of the charge the customer disputes in this message, 0 when they
 * dispute nothing. The disputed invoice, when the customer named one the
 * account has open; else the largest amount they wrote; else the account's
 * invoices already marked disputed. With no account known, what the customer
 * wrote is all there is to go by. A message that only follows up a dispute
 * worded in the customer's message just before ("I was charged twice." then
 * "It was €2,350.") counts with the invoice or amount it names.
 */
export function disputeAmount(
  state: ConversationState,
  message: MessageView,
  account: Account | undefined,
): number {
  const invoices = account?.openInvoices ?? [];
  if (!disputesCharge(message.text)) {
    if (!followsUpDispute(state, message)) return 0;
    return invoiceNamed(invoices, new Set(), message.text) ?? largestAmount(message.text);
  }
  const collected = new Set(
    (state.details ?? [])
      .filter((d) => d.name === 'invoice_or_order_number')
      .map((d) => d.value.toUpperCase()),
  );
  const named = invoiceNamed(invoices, collected, message.text);
  if (named !== undefined) return named;
  const written = largestAmount(message.text);
  if (written) return written;
  const disputedInCrm = invoices.filter((i) => i.status.toLowerCase() === 'disputed');
  return disputedInCrm.reduce((sum, i) => sum + i.amount, 0);
}

const largestAmount = (text: string) => Math.max(0, ...amountsIn(text).map((a) => a.value));

/** The amount of the open invoice the text or the collected details name. */
function invoiceNamed(
  invoices: Account['openInvoices'],
  collected: Set<string>,
  text: string,
): number | undefined {
  const upper = text.toUpperCase();
  return invoices.find((i) => {
    const id = i.invoiceId.toUpperCase();
    return collected.has(id) || upper.includes(id);
  })?.amount;
}

/** The customer's message just before this one (since the last handback) disputes a charge. */
function followsUpDispute(state: ConversationState, message: MessageView): boolean {
  const at = state.messages.findIndex((m) => m.messageId === message.messageId);
  const before = at > 0 ? state.messages[at - 1] : undefined;
  return !!before && before.at >= lastHandbackAt(state) && disputesCharge(before.text);
}
