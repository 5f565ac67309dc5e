import type { AnalyticsQuery, Interval, SegmentName } from '../api';

export type RangePreset = '24h' | '7d' | '30d' | 'custom';

/** What the dashboard shows: a date range and segment filters, kept in the address (#/dashboard?…). */
export interface DashboardFilters {
  range: RangePreset;
  /** Custom range, as dates (YYYY-MM-DD), both days included. */
  fromDay: string;
  toDay: string;
  channel: string;
  tier: string;
  language: string;
  topic: string;
  policyVersion: string;
}

export const SEGMENTS: { name: SegmentName; title: string; all: string }[] = [
  { name: 'channel', title: 'Channel', all: 'All channels' },
  { name: 'tier', title: 'Tier', all: 'All tiers' },
  { name: 'language', title: 'Language', all: 'All languages' },
  { name: 'topic', title: 'Topic', all: 'All topics' },
  { name: 'policyVersion', title: 'Policy version', all: 'All policy versions' },
];

export const PRESETS: { range: RangePreset; title: string; hours: number }[] = [
  { range: '24h', title: 'Last 24 hours', hours: 24 },
  { range: '7d', title: 'Last 7 days', hours: 24 * 7 },
  { range: '30d', title: 'Last 30 days', hours: 24 * 30 },
  { range: 'custom', title: 'Custom…', hours: 0 },
];

const DAY_MS = 24 * 3600 * 1000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function initialFilters(hash = window.location.hash): DashboardFilters {
  const params = new URLSearchParams(hash.split('?')[1] ?? '');
  const range = PRESETS.find((p) => p.range === params.get('range'))?.range ?? '7d';
  const get = (k: string) => params.get(k) ?? '';
  return {
    range,
    fromDay: get('fromDay') || isoDay(Date.now() - 7 * DAY_MS),
    toDay: get('toDay') || isoDay(Date.now()),
    channel: get('channel'),
    tier: get('tier'),
    language: get('language'),
    topic: get('topic'),
    policyVersion: get('policyVersion'),
  };
}

/** Writes the filters into the address without a new history entry, so a reload or a shared link keeps them. */
export function rememberFilters(f: DashboardFilters): void {
  const params = new URLSearchParams();
  params.set('range', f.range);
  if (f.range === 'custom') {
    params.set('fromDay', f.fromDay);
    params.set('toDay', f.toDay);
  }
  for (const s of SEGMENTS) if (f[s.name]) params.set(s.name, f[s.name]);
  history.replaceState(null, '', `#/dashboard?${params.toString()}`);
}

/** The range as the API's from (inclusive) and to (exclusive); a preset ends now (open-ended). */
export function rangeOf(
  f: Pick<DashboardFilters, 'range' | 'fromDay' | 'toDay'>,
  now = Date.now(),
): { from: string; to?: string } {
  const preset = PRESETS.find((p) => p.range === f.range);
  if (preset && preset.hours) {
    // Whole minutes, so that the figures and their CSV downloads ask for the same range.
    const from = Math.floor((now - preset.hours * 3600 * 1000) / 60_000) * 60_000;
    return { from: new Date(from).toISOString() };
  }
  const from = new Date(`${f.fromDay}T00:00:00`);
  const to = new Date(new Date(`${f.toDay}T00:00:00`).getTime() + DAY_MS);
  return { from: from.toISOString(), to: to.toISOString() };
}

/** Hours for a day, days up to two months, weeks beyond. */
export function intervalOf(range: { from: string; to?: string }, now = Date.now()): Interval {
  const span = (range.to ? Date.parse(range.to) : now) - Date.parse(range.from);
  if (span <= 2 * DAY_MS) return 'hour';
  if (span <= 62 * DAY_MS) return 'day';
  return 'week';
}

export function queryOf(
  range: { from: string; to?: string },
  f: DashboardFilters | null,
): AnalyticsQuery {
  const q: AnalyticsQuery = { from: range.from, to: range.to };
  if (f) for (const s of SEGMENTS) q[s.name] = f[s.name] || undefined;
  return q;
}

export function customRangeProblem(f: DashboardFilters): string | null {
  if (f.range !== 'custom') return null;
  if (!f.fromDay || !f.toDay) return 'Choose both the first and the last day.';
  if (f.fromDay > f.toDay) return 'The first day must not be after the last day.';
  return null;
}
