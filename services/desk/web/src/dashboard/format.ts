import type { Interval } from '../api';

/** A rate 0..1 as a percentage with one decimal ("12.5%"); the e2e test formats the API's figures the same way. */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '–';
  return `${(rate * 100).toFixed(1)}%`;
}

/** Seconds, readable ("45 s", "3.2 min", "1.5 h"). */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** A CSAT average 1..5 ("4.2 / 5"). */
export function score(average: number | null | undefined): string {
  return average === null || average === undefined ? '–' : `${average.toFixed(1)} / 5`;
}

/** An interval's start on a time axis: the hour for hourly points, the day otherwise. */
export function tick(iso: string, interval: Interval): string {
  const d = new Date(iso);
  return interval === 'hour'
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function day(iso: string): string {
  return new Date(iso).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString([], {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function signed(n: number, digits = 2): string {
  const text = Number.isInteger(n) ? String(n) : n.toFixed(digits);
  return n > 0 ? `+${text}` : text;
}

/** "explicit_human_request" -> "Explicit human request". */
export function label(name: string): string {
  const words = name.replace(/[_.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A colour per series, stable by position. */
export const PALETTE = [
  '#2f5bea',
  '#e0782f',
  '#1b9e77',
  '#b5461b',
  '#7b5fd6',
  '#c2a000',
  '#2c9fbf',
  '#d6457a',
  '#6b7585',
];

/** Seconds on a chart axis, short ("45s", "27m", "1.5h"). */
export function shortDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

const HOUR_MS = 3600 * 1000;
const STEP_MS: Record<Interval, number> = {
  hour: HOUR_MS,
  day: 24 * HOUR_MS,
  week: 7 * 24 * HOUR_MS,
};

/** The start of the interval holding `ms`, in UTC as the metrics service counts (weeks start on Monday). */
function truncate(ms: number, interval: Interval): number {
  const d = new Date(ms);
  if (interval === 'hour') return d.setUTCMinutes(0, 0, 0);
  d.setUTCHours(0, 0, 0, 0);
  if (interval === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.getTime();
}

/**
 * Every interval start of the range together with the ones the API answered, in order: the API
 * leaves out intervals without conversations, and the chart still spans the whole range.
 */
export function slots(
  range: { from: string; to?: string },
  interval: Interval,
  answered: string[],
  now = Date.now(),
): number[] {
  const all = new Set(answered.map((s) => Date.parse(s)));
  const end = range.to ? Date.parse(range.to) : now;
  // Capped, so that a long range by hour cannot freeze the page.
  for (let t = truncate(Date.parse(range.from), interval); t < end && all.size < 500;) {
    all.add(t);
    t += STEP_MS[interval];
  }
  return [...all].sort((a, b) => a - b);
}
