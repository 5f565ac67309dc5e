import { describe, expect, it } from '@jest/globals';
import { customRangeProblem, intervalOf, rangeOf, type DashboardFilters } from './filters';
import { pct, slots } from './format';

const HOUR = 3600 * 1000;
const now = Date.parse('2026-03-10T15:42:31.500Z');
const filters = (over: Partial<DashboardFilters>): DashboardFilters => ({
  range: '7d',
  fromDay: '2026-03-01',
  toDay: '2026-03-03',
  channel: '',
  tier: '',
  language: '',
  topic: '',
  policyVersion: '',
  ...over,
});

describe('the dashboard range', () => {
  it('starts a preset the given hours before now, on a whole minute, and leaves it open-ended', () => {
    expect(rangeOf(filters({ range: '24h' }), now)).toEqual({ from: '2026-03-09T15:42:00.000Z' });
    expect(rangeOf(filters({ range: '30d' }), now)).toEqual({ from: '2026-02-08T15:42:00.000Z' });
  });

  it('includes the last day of a custom range (the API takes `to` as exclusive)', () => {
    const { from, to } = rangeOf(filters({ range: 'custom' }), now);
    expect(Date.parse(to!) - Date.parse(from)).toBe(3 * 24 * HOUR);
  });

  it('counts by hour up to two days, by day up to two months, by week beyond', () => {
    const at = (days: number) => ({ from: new Date(now - days * 24 * HOUR).toISOString() });
    expect(intervalOf(at(1), now)).toBe('hour');
    expect(intervalOf(at(7), now)).toBe('day');
    expect(intervalOf(at(90), now)).toBe('week');
  });

  it('refuses a custom range that ends before it starts', () => {
    expect(customRangeProblem(filters({ range: 'custom', fromDay: '2026-03-05' }))).toMatch(
      /must not be after/,
    );
    expect(customRangeProblem(filters({ range: 'custom' }))).toBeNull();
  });
});

describe('chart slots', () => {
  it('spans the range in UTC hours and keeps the starts the API answered', () => {
    const range = { from: '2026-03-10T12:30:00.000Z' };
    const got = slots(range, 'hour', ['2026-03-10T14:00:00Z'], now).map((t) =>
      new Date(t).toISOString(),
    );
    expect(got).toEqual([
      '2026-03-10T12:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
      '2026-03-10T14:00:00.000Z',
      '2026-03-10T15:00:00.000Z',
    ]);
  });

  it('starts weeks on Monday, as the metrics service counts them', () => {
    const [first] = slots({ from: '2026-03-12T09:00:00Z', to: '2026-03-20T00:00:00Z' }, 'week', []);
    expect(new Date(first).toISOString()).toBe('2026-03-09T00:00:00.000Z');
  });
});

describe('rates', () => {
  it('shows a rate as a percentage with one decimal, and a missing one as a dash', () => {
    expect([pct(0.3451), pct(1), pct(0), pct(null)]).toEqual(['34.5%', '100.0%', '0.0%', '–']);
  });
});
