/** The analysts' summary: totals over conversations started in a range, and the rates derived from them. */

export interface SummaryRange {
  from?: Date;
  to?: Date;
}

export interface FieldIssue {
  field: string;
  rule: string;
  message: string;
}

/** What the database counts over the range. */
export interface SummaryCounts {
  conversations: number;
  aiReplies: number;
  aiResolutions: number;
  humanResolutions: number;
  handoffs: number;
  conversationsWithHandoff: number;
  assigned: number;
}

export interface Summary {
  from: string | null;
  to: string | null;
  conversations: number;
  aiReplies: number;
  aiResolutions: number;
  humanResolutions: number;
  handoffs: number;
  handoffRate: number;
  automationRate: number;
  assigned: number;
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A real calendar day: JavaScript turns 2026-02-30 into March 2nd rather than refusing it. */
function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

function parseInstant(field: string, value: unknown): { at?: Date; issue?: FieldIssue } {
  if (value === undefined || value === '') return {};
  const at =
    typeof value === 'string' && ISO.test(value) && isCalendarDate(value)
      ? new Date(value)
      : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    return {
      issue: {
        field,
        rule: 'timestamp',
        message: 'must be an ISO 8601 date or time such as 2026-01-31 or 2026-01-31T12:00:00Z',
      },
    };
  }
  return { at };
}

/** Reads `from` (inclusive) and `to` (exclusive) from a query; issues name the field. */
export function parseRange(query: { from?: unknown; to?: unknown }): {
  range: SummaryRange;
  issues: FieldIssue[];
} {
  const from = parseInstant('from', query.from);
  const to = parseInstant('to', query.to);
  const issues = [from.issue, to.issue].filter((i): i is FieldIssue => i !== undefined);
  if (!issues.length && from.at && to.at && from.at > to.at) {
    issues.push({ field: 'to', rule: 'range', message: 'must not be before from' });
  }
  return { range: { from: from.at, to: to.at }, issues };
}

const ratio = (part: number, whole: number): number =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0;

export function summarize(range: SummaryRange, counts: SummaryCounts): Summary {
  return {
    from: range.from?.toISOString() ?? null,
    to: range.to?.toISOString() ?? null,
    conversations: counts.conversations,
    aiReplies: counts.aiReplies,
    aiResolutions: counts.aiResolutions,
    humanResolutions: counts.humanResolutions,
    handoffs: counts.handoffs,
    handoffRate: ratio(counts.conversationsWithHandoff, counts.conversations),
    automationRate: ratio(counts.aiResolutions, counts.conversations),
    assigned: counts.assigned,
  };
}
