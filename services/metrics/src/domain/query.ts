import type { Filters, Interval, SegmentName } from './api.js';
import { parseRange, type FieldIssue, type SummaryRange } from './summary.js';

export const SEGMENTS: readonly SegmentName[] = [
  'channel',
  'tier',
  'language',
  'topic',
  'policyVersion',
];
export const INTERVALS: readonly Interval[] = ['hour', 'day', 'week'];

/** The segment value of a conversation the log never named (stored as ''). */
export const UNKNOWN_SEGMENT = 'unknown';

/** One analyst query: the range on the conversation's start, exact-match segments, and the extras. */
export interface MetricsQuery {
  range: SummaryRange;
  filters: Filters;
  /** Segment filters as stored ('unknown' -> ''). */
  segments: Partial<Record<SegmentName, string>>;
  interval: Interval;
  groupBy: SegmentName;
  csv: boolean;
}

export class InvalidQuery extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

const single = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

/**
 * Reads an analyst query; every problem is an issue naming its field. `needs` says which of
 * interval and groupBy the endpoint uses (they default to day and channel).
 */
export function parseQuery(
  raw: Record<string, unknown>,
  accept = '',
): { query: MetricsQuery; issues: FieldIssue[] } {
  const { range, issues } = parseRange({ from: single(raw.from), to: single(raw.to) });
  const filters: Filters = {
    from: range.from?.toISOString() ?? null,
    to: range.to?.toISOString() ?? null,
  };
  const segments: MetricsQuery['segments'] = {};
  for (const name of SEGMENTS) {
    const value = single(raw[name]);
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 200) {
      issues.push({
        field: name,
        rule: 'string',
        message: 'must be one value of at most 200 characters',
      });
      continue;
    }
    filters[name] = value;
    segments[name] = value === UNKNOWN_SEGMENT ? '' : value;
  }
  const interval = single(raw.interval) ?? 'day';
  if (!INTERVALS.includes(interval as Interval))
    issues.push({
      field: 'interval',
      rule: 'enum',
      message: `must be one of ${INTERVALS.join(', ')}`,
    });
  const groupBy = single(raw.groupBy) ?? 'channel';
  if (!SEGMENTS.includes(groupBy as SegmentName))
    issues.push({
      field: 'groupBy',
      rule: 'enum',
      message: `must be one of ${SEGMENTS.join(', ')}`,
    });
  const format = single(raw.format);
  if (format !== undefined && format !== 'json' && format !== 'csv')
    issues.push({ field: 'format', rule: 'enum', message: 'must be json or csv' });
  const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(accept));
  return {
    query: {
      range,
      filters,
      segments,
      interval: interval as Interval,
      groupBy: groupBy as SegmentName,
      csv,
    },
    issues,
  };
}
