import { useCallback, useEffect, useMemo, useState } from 'react';
import { analytics, analyticsUrl, type Agent, type SegmentName } from '../api';
import {
  customRangeProblem,
  initialFilters,
  intervalOf,
  PRESETS,
  queryOf,
  rangeOf,
  rememberFilters,
  SEGMENTS,
  type DashboardFilters,
  type RangePreset,
} from './filters';
import {
  BreakdownTable,
  CsatSplit,
  Headline,
  LatencyChart,
  RatesChart,
  TopicTrend,
  TriggerChart,
} from './charts';
import { dateTime } from './format';
import { policyInForce } from './policy';
import { Section, type Load } from './Section';
import { ChurnTable, RulesTable } from './tables';

const loading = { state: 'loading' } as const;

/** Runs a request into a Load state; a failure shows in its section only. */
function settle<T>(promise: Promise<T>, set: (l: Load<T>) => void): Promise<void> {
  return promise.then(
    (data) => set({ state: 'ok', data }),
    (err: Error) => set({ state: 'error', message: err.message }),
  );
}

/** The analysts' dashboard over the metrics service (through the desk's /v1/analytics). */
export default function DashboardPage({ agent: _agent }: { agent: Agent }) {
  const [filters, setFilters] = useState<DashboardFilters>(() => initialFilters());
  // Bumped by "Refresh": a preset's range is recomputed up to now.
  const [asOf, setAsOf] = useState(() => Date.now());
  const problem = customRangeProblem(filters);

  // The range changes with the dates only, so that a segment filter does not move a preset's start.
  const { range: preset, fromDay, toDay } = filters;
  const range = useMemo(
    () => rangeOf({ range: preset, fromDay, toDay }, asOf),
    [preset, fromDay, toDay, asOf],
  );
  const interval = intervalOf(range, asOf);
  const query = useMemo(() => queryOf(range, filters), [range, filters]);

  const [overview, setOverview] =
    useState<Load<Awaited<ReturnType<typeof analytics.overview>>>>(loading);
  const [series, setSeries] =
    useState<Load<Awaited<ReturnType<typeof analytics.timeseries>>>>(loading);
  const [handoffs, setHandoffs] =
    useState<Load<Awaited<ReturnType<typeof analytics.handoffs>>>>(loading);
  const [rules, setRules] = useState<Load<Awaited<ReturnType<typeof analytics.rules>>>>(loading);
  const [topics, setTopics] = useState<Load<Awaited<ReturnType<typeof analytics.topics>>>>(loading);
  const [churn, setChurn] =
    useState<Load<Awaited<ReturnType<typeof analytics.churnRisk>>>>(loading);
  const [groupBy, setGroupBy] = useState<SegmentName>('channel');
  const [breakdown, setBreakdown] =
    useState<Load<Awaited<ReturnType<typeof analytics.breakdown>>>>(loading);
  const [options, setOptions] = useState<Partial<Record<SegmentName, string[]>>>({});
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);

  useEffect(() => {
    rememberFilters(filters);
  }, [filters]);

  // Every section at once; each shows its own state as its answer arrives.
  useEffect(() => {
    if (problem) return;
    let current = true;
    const only =
      <T,>(set: (l: Load<T>) => void) =>
      (l: Load<T>) => {
        if (current) set(l);
      };
    for (const set of [setOverview, setSeries, setHandoffs, setRules, setTopics, setChurn])
      (set as (l: Load<unknown>) => void)(loading);
    void Promise.all([
      settle(analytics.overview(query), only(setOverview)),
      settle(analytics.timeseries(query, interval), only(setSeries)),
      settle(analytics.handoffs(query), only(setHandoffs)),
      settle(analytics.rules(query), only(setRules)),
      settle(analytics.topics(query, interval), only(setTopics)),
      settle(analytics.churnRisk(query), only(setChurn)),
    ]).then(() => current && setUpdatedAt(new Date().toISOString()));
    return () => {
      current = false;
    };
  }, [query, interval, problem]);

  useEffect(() => {
    if (problem) return;
    let current = true;
    setBreakdown(loading);
    void settle(analytics.breakdown(query, groupBy), (l) => current && setBreakdown(l));
    return () => {
      current = false;
    };
  }, [query, groupBy, problem]);

  // The segment filters offer the values seen in the date range (whatever else is filtered).
  useEffect(() => {
    if (problem) return;
    let current = true;
    const dateOnly = queryOf(range, null);
    void Promise.all(
      SEGMENTS.map((s) =>
        analytics.breakdown(dateOnly, s.name).then(
          (b) => [s.name, b.rows.map((r) => r.key).filter(Boolean)] as const,
          () => [s.name, []] as const,
        ),
      ),
    ).then((pairs) => current && setOptions(Object.fromEntries(pairs)));
    return () => {
      current = false;
    };
  }, [range, problem]);

  const set = useCallback(
    <K extends keyof DashboardFilters>(key: K, value: DashboardFilters[K]) =>
      setFilters((f) => ({ ...f, [key]: value })),
    [],
  );
  const csv = (name: string, extra: Record<string, string> = {}) =>
    analyticsUrl(name, { ...query, ...extra }, true);
  const filtered = SEGMENTS.some((s) => filters[s.name]);
  const nothingHint = filtered
    ? 'No conversations match these filters in this range: widen the range or clear a filter.'
    : 'No conversations started in this range yet: choose a longer range.';

  return (
    <main className="dashboard" aria-labelledby="dashboard-title">
      <header className="dash-head">
        <div>
          <h1 id="dashboard-title">Support dashboard</h1>
          <p className="dash-subtitle">
            {problem
              ? problem
              : `${dateTime(range.from)} – ${range.to ? dateTime(range.to) : 'now'}, by ${interval}`}
            {updatedAt && <span className="muted"> · updated {dateTime(updatedAt)}</span>}
          </p>
          <PolicyLine
            rules={rules}
            filtered={filters.policyVersion}
            onFilter={(v) => set('policyVersion', v)}
          />
        </div>
        <button type="button" className="secondary" onClick={() => setAsOf(Date.now())}>
          Refresh
        </button>
      </header>

      <form className="dash-filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Date range
          <select
            value={filters.range}
            onChange={(e) => set('range', e.target.value as RangePreset)}
          >
            {PRESETS.map((p) => (
              <option key={p.range} value={p.range}>
                {p.title}
              </option>
            ))}
          </select>
        </label>
        {filters.range === 'custom' && (
          <>
            <label>
              From
              <input
                type="date"
                value={filters.fromDay}
                max={filters.toDay}
                onChange={(e) => set('fromDay', e.target.value)}
              />
            </label>
            <label>
              To
              <input
                type="date"
                value={filters.toDay}
                min={filters.fromDay}
                onChange={(e) => set('toDay', e.target.value)}
              />
            </label>
          </>
        )}
        {SEGMENTS.map((s) => {
          const values = options[s.name] ?? [];
          const all =
            filters[s.name] && !values.includes(filters[s.name])
              ? [filters[s.name], ...values]
              : values;
          return (
            <label key={s.name}>
              {s.title}
              <select value={filters[s.name]} onChange={(e) => set(s.name, e.target.value)}>
                <option value="">{s.all}</option>
                {all.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
          );
        })}
        {filtered && (
          <button
            type="button"
            className="link"
            onClick={() =>
              setFilters((f) => ({
                ...f,
                ...Object.fromEntries(SEGMENTS.map((s) => [s.name, ''])),
              }))
            }
          >
            Clear filters
          </button>
        )}
      </form>

      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : (
        <div className="dash-grid">
          <Section
            id="headline"
            title="Headline figures"
            csv={csv('overview')}
            load={overview}
            empty={(o) => (o.conversations ? null : nothingHint)}
            wide
          >
            {(o) => <Headline overview={o} />}
          </Section>

          <Section
            id="rates"
            title="Rates over time"
            subtitle="Automation, handoff and false-escalation rate per interval"
            csv={csv('timeseries', { interval })}
            load={series}
            empty={(s) => (s.points.length ? null : nothingHint)}
            wide
          >
            {(s) => <RatesChart series={s} range={range} />}
          </Section>

          <Section
            id="latency"
            title="Latency percentiles"
            subtitle="From the customer's side of a handoff to a person's first reply"
            csv={csv('overview')}
            load={overview}
            empty={(o) =>
              o.latency.timeToHandoff.count || o.latency.waitToAccept.count
                ? null
                : 'No handoffs in this range, so no latency to show.'
            }
          >
            {(o) => <LatencyChart latency={o.latency} />}
          </Section>

          <Section
            id="csat"
            title="CSAT split"
            subtitle="Satisfaction when the AI resolved alone vs after a handoff"
            csv={csv('overview')}
            load={overview}
            empty={(o) =>
              o.csat.overall.responses
                ? null
                : o.csat.overall.requested
                  ? `Customers were asked to rate ${o.csat.overall.requested} conversations; no answer yet.`
                  : 'No CSAT responses in this range: customers are asked after a conversation is resolved.'
            }
          >
            {(o) => <CsatSplit csat={o.csat} />}
          </Section>

          <Section
            id="topics"
            title="Topic trend"
            subtitle="Escalations per topic (the knowledge gaps), rising or falling, and the articles published"
            csv={csv('topics', { interval })}
            load={topics}
            empty={(t) => (t.topics.length ? null : 'No conversations with a topic in this range.')}
            wide
          >
            {(t) => <TopicTrend topics={t} range={range} />}
          </Section>

          <Section
            id="triggers"
            title="Handoffs by trigger"
            csv={csv('handoffs')}
            load={handoffs}
            empty={(h) => (h.handoffs ? null : 'No handoffs in this range.')}
          >
            {(h) => <TriggerChart handoffs={h} />}
          </Section>

          <Section
            id="segments"
            title="By segment"
            subtitle="The rates per channel, tier, language, topic or policy version"
            csv={csv('breakdown', { groupBy })}
            load={breakdown}
            empty={(b) => (b.rows.length ? null : nothingHint)}
          >
            {(b) => (
              <>
                <label className="inline-select">
                  Group by{' '}
                  <select
                    value={groupBy}
                    onChange={(e) => setGroupBy(e.target.value as SegmentName)}
                  >
                    {SEGMENTS.map((s) => (
                      <option key={s.name} value={s.name}>
                        {s.title}
                      </option>
                    ))}
                  </select>
                </label>
                <BreakdownTable
                  breakdown={b}
                  title={SEGMENTS.find((s) => s.name === b.groupBy)?.title ?? b.groupBy}
                />
              </>
            )}
          </Section>

          <Section
            id="rules"
            title="Rules"
            subtitle="How often each rule fired, how often falsely, and what to change"
            csv={csv('rules')}
            load={rules}
            empty={(r) => (r.rules.length ? null : 'No escalation rule fired in this range.')}
            wide
          >
            {(r) => <RulesTable rules={r} query={query} />}
          </Section>

          <Section
            id="churn"
            title="Churn risk"
            subtitle="At-risk accounts whose conversations went badly"
            csv={csv('churn-risk')}
            load={churn}
            empty={(c) =>
              c.accounts.length
                ? null
                : 'No at-risk account with a negative sentiment trajectory in this range.'
            }
            wide
          >
            {(c) => <ChurnTable churn={c} />}
          </Section>
        </div>
      )}
    </main>
  );
}

/** Which escalation policy decisions are made under now, with a filter to its conversations. */
function PolicyLine({
  rules,
  filtered,
  onFilter,
}: {
  rules: Load<Awaited<ReturnType<typeof analytics.rules>>>;
  filtered: string;
  onFilter: (version: string) => void;
}) {
  const policy = policyInForce(rules);
  return (
    <p className="dash-subtitle" data-testid="policy-in-force">
      Escalation policy in force:{' '}
      {policy.state === 'loading' ? (
        '…'
      ) : policy.state === 'unknown' ? (
        <span title={policy.why}>unknown</span>
      ) : (
        <>
          <span className="mono">{policy.version}</span>
          {filtered !== policy.version && (
            <>
              {' '}
              <button type="button" className="link" onClick={() => onFilter(policy.version)}>
                show its conversations
              </button>
            </>
          )}
        </>
      )}
    </p>
  );
}
