import { Fragment, useState } from 'react';
import {
  analytics,
  type AnalyticsQuery,
  type ChurnRisk,
  type RuleWhatIf,
  type Rules,
} from '../api';
import { money } from '../format';
import { dateTime, label, pct, score, signed } from './format';

type WhatIfState =
  | { state: 'running' }
  | { state: 'error'; message: string }
  | { state: 'done'; result: RuleWhatIf };

/** Each rule that fired: how often, how often falsely, and the suggested threshold with its what-if replay. */
export function RulesTable({ rules, query }: { rules: Rules; query: AnalyticsQuery }) {
  const [whatIf, setWhatIf] = useState<Record<string, WhatIfState>>({});
  const check = (rule: string) => {
    setWhatIf((w) => ({ ...w, [rule]: { state: 'running' } }));
    analytics.whatIf(rule, query).then(
      (result) => setWhatIf((w) => ({ ...w, [rule]: { state: 'done', result } })),
      (err: Error) =>
        setWhatIf((w) => ({ ...w, [rule]: { state: 'error', message: err.message } })),
    );
  };
  return (
    <table className="dash-table rules">
      <caption>Escalation rules that fired</caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Fires</th>
          <th scope="col">False escalations</th>
          <th scope="col">False-escalation rate</th>
          <th scope="col">Suggested threshold change</th>
          <th scope="col">
            <span className="visually-hidden">What-if</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rules.rules.map((r) => {
          const w = whatIf[r.rule];
          return (
            <Fragment key={r.rule}>
              <tr data-testid="rule-row" data-rule={r.rule}>
                <th scope="row">
                  {label(r.rule)}
                  <div className="muted mono">{r.rule}</div>
                </th>
                <td>{r.fires}</td>
                <td>{r.falseEscalations}</td>
                <td>
                  <RateBar rate={r.falseEscalationRate} />
                </td>
                <td className="suggestion">
                  {r.suggestion ? (
                    <>
                      <strong className="mono">
                        {r.suggestion.threshold}: {r.suggestion.current} → {r.suggestion.suggested}
                      </strong>
                      <p>{r.suggestion.rationale}</p>
                      <p className="muted">
                        On the recorded handoffs: {r.suggestion.wouldAvoidFalse} false escalations
                        avoided, {r.suggestion.wouldMissConfirmed} needed ones missed.
                      </p>
                    </>
                  ) : (
                    <span className="muted">No change suggested</span>
                  )}
                </td>
                <td>
                  {r.suggestion && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Check ${label(r.rule)} with what-if`}
                      disabled={w?.state === 'running'}
                      onClick={() => check(r.rule)}
                    >
                      {w?.state === 'running' ? 'Replaying…' : 'Check with what-if'}
                    </button>
                  )}
                </td>
              </tr>
              {w && w.state !== 'running' && (
                <tr className="whatif-row">
                  <td colSpan={6}>
                    {w.state === 'error' ? (
                      <p className="error" role="alert">
                        What-if for {label(r.rule)} failed: {w.message}
                      </p>
                    ) : (
                      <WhatIfResult result={w.result} />
                    )}
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

function WhatIfResult({ result }: { result: RuleWhatIf }) {
  const { recorded, candidate, flipped, suggestion } = result;
  return (
    <div
      className="whatif"
      role="status"
      aria-label={`What-if result for ${label(result.rule)}`}
      data-testid="whatif-result"
    >
      <strong>
        Replayed with {suggestion.threshold} = {suggestion.suggested}
      </strong>{' '}
      <span className="muted">(candidate policy {result.candidateVersion})</span>
      <dl>
        <dt>Handoffs</dt>
        <dd>
          {recorded.handoffs} → {candidate.handoffs} (
          {signed(candidate.handoffs - recorded.handoffs)})
        </dd>
        <dt>Handoff rate</dt>
        <dd>
          {pct(recorded.handoffRate)} → {pct(candidate.handoffRate)}
        </dd>
        <dt>Conversations handed off</dt>
        <dd>
          {recorded.conversationsHandedOff} → {candidate.conversationsHandedOff}
        </dd>
        <dt>Decisions that flip</dt>
        <dd>
          {flipped.toAi} to the AI, {flipped.toHuman} to a person
        </dd>
      </dl>
    </div>
  );
}

function RateBar({ rate }: { rate: number }) {
  return (
    <span className="rate-bar" title={pct(rate)}>
      <span className="bar" aria-hidden="true">
        <span style={{ width: `${Math.min(100, rate * 100)}%` }} />
      </span>
      {pct(rate)}
    </span>
  );
}

/** At-risk accounts whose conversations went badly. */
export function ChurnTable({ churn }: { churn: ChurnRisk }) {
  return (
    <table className="dash-table">
      <caption>Accounts at risk of churn</caption>
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col">Monthly value</th>
          <th scope="col">Owner</th>
          <th scope="col">Conversations</th>
          <th scope="col">Handoffs</th>
          <th scope="col">Lowest sentiment</th>
          <th scope="col">Largest fall</th>
          <th scope="col">Lowest CSAT</th>
          <th scope="col">Why</th>
          <th scope="col">Last conversation</th>
        </tr>
      </thead>
      <tbody>
        {churn.accounts.map((a) => (
          <tr key={a.accountId} data-testid="churn-row" data-account={a.accountId}>
            <th scope="row">
              {a.name || a.accountId}
              <div>
                <span className="chip">{a.tier || 'no tier'}</span>
                {a.atRisk && <span className="chip risk">at risk</span>}
              </div>
            </th>
            <td>{money(a.monthlyValue, a.currency)}</td>
            <td>{a.owner || <span className="muted">none</span>}</td>
            <td>{a.conversations}</td>
            <td>{a.handoffs}</td>
            <td className={a.sentiment < 0 ? 'neg' : ''}>{a.sentiment.toFixed(2)}</td>
            <td className={a.change < 0 ? 'neg' : ''}>{signed(a.change)}</td>
            <td>{a.lowestCsat === null ? '–' : score(a.lowestCsat)}</td>
            <td>{a.reasons.join('; ')}</td>
            <td>
              {dateTime(a.lastAt)}
              <div className="muted mono" title={a.lastConversationId}>
                {a.lastConversationId.slice(0, 8)}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
