import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Breakdown, Handoffs, Overview, Percentiles, Timeseries, Topics } from '../api';
import {
  duration,
  shortDuration,
  slots,
  label,
  PALETTE,
  pct,
  score,
  signed,
  day,
  tick,
} from './format';

const HEIGHT = 260;
type Range = { from: string; to?: string };
const axis = { fontSize: 12, fill: '#6b7585' };
const avg = (a: number | null) => (a === null ? '–' : a.toFixed(1));

/** The headline figures; each value has a test id (figure-<name>) for the browser test. */
export function Headline({ overview }: { overview: Overview }) {
  const { automation, handoff, csat, falseEscalation, missedEscalation } = overview;
  return (
    <dl className="figures">
      <Figure name="conversations" title="Conversations" value={String(overview.conversations)}>
        started in the range
      </Figure>
      <Figure name="automation" title="Automation rate" value={pct(automation.rate)}>
        {automation.resolved} resolved by the AI: {automation.confirmed} confirmed,{' '}
        {automation.assumed} assumed after {automation.quietWindowMinutes} quiet minutes
      </Figure>
      <Figure name="handoff" title="Handoff rate" value={pct(handoff.rate)}>
        {handoff.conversations} conversations handed to a person ({handoff.handoffs} handoffs)
      </Figure>
      <Figure
        name="csat"
        title="CSAT: AI only vs handed off"
        value={`${avg(csat.aiOnly.average)} vs ${avg(csat.handedOff.average)}`}
      >
        average of 5, from {csat.aiOnly.responses} and {csat.handedOff.responses} responses (overall{' '}
        {score(csat.overall.average)})
      </Figure>
      <Figure name="false-escalation" title="False escalations" value={pct(falseEscalation.rate)}>
        {falseEscalation.total} of {falseEscalation.handoffs} handoffs: {falseEscalation.marked}{' '}
        marked by agents, {falseEscalation.matchedArticle} matched a published article
      </Figure>
      <Figure
        name="missed-escalation"
        title="Missed escalations"
        value={pct(missedEscalation.rate)}
      >
        {missedEscalation.total} of {missedEscalation.aiResolved} AI resolutions:{' '}
        {missedEscalation.reopened} reopened, {missedEscalation.ratedBadly} rated 1–2
      </Figure>
    </dl>
  );
}

function Figure({
  name,
  title,
  value,
  children,
}: {
  name: string;
  title: string;
  value: string;
  children: React.ReactNode;
}) {
  return (
    <div className="figure" data-testid={`figure-${name}`}>
      <dt>{title}</dt>
      <dd className="value" data-testid={`figure-${name}-value`}>
        {value}
      </dd>
      <dd className="figure-detail">{children}</dd>
    </div>
  );
}

/** Automation, handoff and false-escalation rates per interval. */
export function RatesChart({ series, range }: { series: Timeseries; range: Range }) {
  const byStart = new Map(series.points.map((p) => [Date.parse(p.start), p]));
  const data = slots(
    range,
    series.interval,
    series.points.map((p) => p.start),
  ).map((t) => {
    const p = byStart.get(t);
    return {
      start: tick(new Date(t).toISOString(), series.interval),
      automation: p?.automationRate ?? null,
      handoff: p?.handoffRate ?? null,
      falseEscalation: p?.falseEscalationRate ?? null,
    };
  });
  return (
    <div className="chart" role="img" aria-label="Line chart: rates over time">
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eef0f4" vertical={false} />
          <XAxis dataKey="start" tick={axis} />
          <YAxis
            tick={axis}
            domain={[0, 1]}
            tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
            width={44}
          />
          <Tooltip formatter={(v) => pct(Number(v))} />
          <Legend />
          <Line
            type="monotone"
            dataKey="automation"
            name="Automation"
            stroke={PALETTE[2]}
            strokeWidth={2}
            dot={{ r: 3 }}
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="handoff"
            name="Handoff"
            stroke={PALETTE[0]}
            strokeWidth={2}
            dot={{ r: 3 }}
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="falseEscalation"
            name="False escalation"
            stroke={PALETTE[3]}
            strokeWidth={2}
            strokeDasharray="5 3"
            dot={{ r: 3 }}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export const LATENCIES: { key: keyof Overview['latency']; title: string }[] = [
  { key: 'timeToHandoff', title: 'Time to handoff' },
  { key: 'timeToHandoffFromTrigger', title: 'From trigger' },
  { key: 'waitToAccept', title: 'Wait to accept' },
  { key: 'timeToFirstHumanReply', title: 'First human reply' },
];

/** p50/p90/p99 of each handoff latency, with the sample count. */
export function LatencyChart({ latency }: { latency: Overview['latency'] }) {
  const data = LATENCIES.map(({ key, title }) => {
    const p: Percentiles = latency[key];
    return { name: title, p50: p.p50, p90: p.p90, p99: p.p99 };
  });
  return (
    <>
      <div className="chart" role="img" aria-label="Bar chart: latency percentiles">
        <ResponsiveContainer width="100%" height={HEIGHT}>
          <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#eef0f4" vertical={false} />
            <XAxis dataKey="name" tick={axis} interval={0} />
            <YAxis tick={axis} tickFormatter={(v: number) => shortDuration(v)} width={44} />
            <Tooltip formatter={(v) => duration(v === null ? null : Number(v))} />
            <Legend />
            <Bar dataKey="p50" name="p50" fill={PALETTE[0]} isAnimationActive={false} />
            <Bar dataKey="p90" name="p90" fill={PALETTE[6]} isAnimationActive={false} />
            <Bar dataKey="p99" name="p99" fill={PALETTE[4]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="dash-table compact">
        <caption>Latency percentiles</caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            <th scope="col">Samples</th>
            <th scope="col">p50</th>
            <th scope="col">p90</th>
            <th scope="col">p99</th>
          </tr>
        </thead>
        <tbody>
          {LATENCIES.map(({ key, title }) => (
            <tr key={key}>
              <th scope="row">{title}</th>
              <td>{latency[key].count}</td>
              <td>{duration(latency[key].p50)}</td>
              <td>{duration(latency[key].p90)}</td>
              <td>{duration(latency[key].p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Average score and share satisfied, AI only against handed off. */
export function CsatSplit({ csat }: { csat: Overview['csat'] }) {
  const groups = [
    { name: 'AI only', stat: csat.aiOnly, color: PALETTE[2] },
    { name: 'Handed off', stat: csat.handedOff, color: PALETTE[0] },
  ];
  const data = groups.map((g) => ({ name: g.name, average: g.stat.average ?? 0 }));
  return (
    <div className="split">
      <div className="chart" role="img" aria-label="Bar chart: CSAT AI only vs handed off">
        <ResponsiveContainer width="100%" height={180}>
          <BarChart
            data={data}
            layout="vertical"
            margin={{ top: 8, right: 24, bottom: 0, left: 8 }}
          >
            <CartesianGrid stroke="#eef0f4" horizontal={false} />
            <XAxis type="number" domain={[0, 5]} ticks={[1, 2, 3, 4, 5]} tick={axis} />
            <YAxis type="category" dataKey="name" tick={axis} width={96} />
            <Tooltip formatter={(v) => score(Number(v))} />
            <Bar dataKey="average" name="Average score" isAnimationActive={false}>
              {groups.map((g) => (
                <Cell key={g.name} fill={g.color} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="dash-table compact">
        <caption>CSAT split</caption>
        <thead>
          <tr>
            <th scope="col">Conversations</th>
            <th scope="col">Average</th>
            <th scope="col">Satisfied (4–5)</th>
            <th scope="col">Responses / asked</th>
          </tr>
        </thead>
        <tbody>
          {[...groups, { name: 'Overall', stat: csat.overall }].map((g) => (
            <tr key={g.name}>
              <th scope="row">{g.name}</th>
              <td>{score(g.stat.average)}</td>
              <td>{g.stat.responses ? pct(g.stat.satisfied) : '–'}</td>
              <td>
                {g.stat.responses} / {g.stat.requested}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How many handoffs each trigger caused. */
export function TriggerChart({ handoffs }: { handoffs: Handoffs }) {
  const data = handoffs.byTrigger.map((t) => ({ ...t, name: label(t.trigger) }));
  return (
    <div
      className="chart"
      role="img"
      aria-label="Bar chart: handoffs by trigger"
      style={{ height: Math.max(120, 34 * data.length + 40) }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#eef0f4" horizontal={false} />
          <XAxis type="number" allowDecimals={false} tick={axis} />
          <YAxis type="category" dataKey="name" tick={axis} width={150} />
          <Tooltip
            formatter={(v, _n, item) => [
              `${String(v)} (${pct((item.payload as { share: number }).share)})`,
              'Handoffs',
            ]}
          />
          <Bar dataKey="handoffs" name="Handoffs" fill={PALETTE[0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

const TOP_TOPICS = 8;
const TREND_MARK = { rising: '▲', falling: '▼', flat: '–' } as const;

/** Escalations per topic per interval (stacked), then the trend and articles per topic. */
export function TopicTrend({ topics, range }: { topics: Topics; range: Range }) {
  const shown = [...topics.topics]
    .sort((a, b) => b.escalations - a.escalations)
    .slice(0, TOP_TOPICS);
  const byStart = new Map<number, Record<string, number>>();
  for (const t of shown)
    for (const s of t.series) {
      const row = byStart.get(Date.parse(s.start)) ?? {};
      row[t.topic] = s.escalations;
      byStart.set(Date.parse(s.start), row);
    }
  const data = slots(
    range,
    topics.interval,
    [...byStart.keys()].map((t) => new Date(t).toISOString()),
  ).map((t) => ({
    ...Object.fromEntries(shown.map((s) => [s.topic, 0])),
    ...byStart.get(t),
    label: tick(new Date(t).toISOString(), topics.interval),
  }));
  return (
    <>
      <div
        className="chart"
        role="img"
        aria-label="Stacked bar chart: escalations per topic over time"
      >
        <ResponsiveContainer width="100%" height={HEIGHT}>
          <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#eef0f4" vertical={false} />
            <XAxis dataKey="label" tick={axis} />
            <YAxis tick={axis} allowDecimals={false} width={36} />
            <Tooltip />
            <Legend />
            {shown.map((t, i) => (
              <Bar
                key={t.topic}
                dataKey={t.topic}
                name={label(t.topic)}
                stackId="escalations"
                fill={PALETTE[i % PALETTE.length]}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="dash-table">
        <caption>Escalations per topic, with articles published on it</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">Conversations</th>
            <th scope="col">Escalations</th>
            <th scope="col">Trend</th>
            <th scope="col">Articles published (escalation rate before → after)</th>
          </tr>
        </thead>
        <tbody>
          {topics.topics.map((t) => (
            <tr key={t.topic} data-testid="topic-row">
              <th scope="row">{label(t.topic)}</th>
              <td>{t.conversations}</td>
              <td>{t.escalations}</td>
              <td>
                <span
                  className={`trend ${t.trend}`}
                  aria-label={`${t.trend} (${signed(t.change)})`}
                >
                  {TREND_MARK[t.trend]} {t.trend} ({signed(t.change)})
                </span>
              </td>
              <td>
                {t.articles.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <Articles articles={t.articles} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The rates per value of one segment (channel, tier, …). */
export function BreakdownTable({ breakdown, title }: { breakdown: Breakdown; title: string }) {
  return (
    <table className="dash-table compact">
      <caption>By {title.toLowerCase()}</caption>
      <thead>
        <tr>
          <th scope="col">{title}</th>
          <th scope="col">Conversations</th>
          <th scope="col">Automation</th>
          <th scope="col">Handoff</th>
          <th scope="col">False esc.</th>
          <th scope="col">Missed esc.</th>
          <th scope="col">CSAT AI / human</th>
        </tr>
      </thead>
      <tbody>
        {breakdown.rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.key || <span className="muted">unknown</span>}</th>
            <td>{r.conversations}</td>
            <td>{pct(r.automationRate)}</td>
            <td>{pct(r.handoffRate)}</td>
            <td>{pct(r.falseEscalationRate)}</td>
            <td>{pct(r.missedEscalationRate)}</td>
            <td>
              {avg(r.csatAiOnly)} / {avg(r.csatHandedOff)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const ARTICLES_SHOWN = 3;

/** The latest articles on a topic first; the rest folded away. */
function Articles({ articles }: { articles: Topics['topics'][number]['articles'] }) {
  const latest = [...articles].sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
  const item = (a: (typeof articles)[number]) => (
    <li key={a.articleId}>
      <strong>{a.title}</strong> <span className="muted">({day(a.publishedAt)})</span>:{' '}
      {pct(a.before.rate)} → {pct(a.after.rate)}{' '}
      <span className="muted">
        ({a.before.escalations}/{a.before.conversations} → {a.after.escalations}/
        {a.after.conversations})
      </span>
    </li>
  );
  const rest = latest.slice(ARTICLES_SHOWN);
  return (
    <>
      <ul className="articles">{latest.slice(0, ARTICLES_SHOWN).map(item)}</ul>
      {rest.length > 0 && (
        <details>
          <summary>{rest.length} more</summary>
          <ul className="articles">{rest.map(item)}</ul>
        </details>
      )}
    </>
  );
}
