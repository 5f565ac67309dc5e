import type { ChurnRisk, Handoffs, Topics } from './api.js';

export type FlatRow = Record<string, string | number | boolean | null>;

/** An object as one flat row: nested keys joined with dots, lists joined with "; ". */
export function flatten(value: Record<string, unknown>, prefix = '', into: FlatRow = {}): FlatRow {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(v)) into[name] = v.map((x) => String(x)).join('; ');
    else if (v && typeof v === 'object') flatten(v as Record<string, unknown>, name, into);
    else into[name] = (v ?? null) as FlatRow[string];
  }
  return into;
}

/** The flat rows of each endpoint's CSV: one row per item of its main list. */
export const csvRows = {
  single: (value: Record<string, unknown>): FlatRow[] => [flatten(value)],
  list: <T extends object>(items: T[]): FlatRow[] =>
    items.map((i) => flatten(i as Record<string, unknown>)),
  handoffs: (h: Handoffs): FlatRow[] => [
    ...h.byRule.map((r) => ({ group: 'rule', name: r.rule, handoffs: r.handoffs, share: r.share })),
    ...h.byTrigger.map((r) => ({
      group: 'trigger',
      name: r.trigger,
      handoffs: r.handoffs,
      share: r.share,
    })),
  ],
  /** A row per topic and interval, then a row per article with the topic's rate before and after. */
  topics: (t: Topics): FlatRow[] =>
    t.topics.flatMap((topic) => [
      ...topic.series.map((s) => ({
        kind: 'interval',
        topic: topic.topic,
        trend: topic.trend,
        change: topic.change,
        start: s.start,
        conversations: s.conversations,
        escalations: s.escalations,
      })),
      ...topic.articles.map((a) =>
        flatten({
          kind: 'article',
          topic: topic.topic,
          trend: topic.trend,
          change: topic.change,
          ...a,
        }),
      ),
    ]),
  churn: (c: ChurnRisk): FlatRow[] => c.accounts.map((a) => flatten({ ...a })),
};
