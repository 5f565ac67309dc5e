import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, type Agent, type Briefing, type ConversationView } from './api';
import { money, priorityName, ruleName, time } from './format';
import { ReviewPanel } from './Review';

type Panel = 'none' | 'decline' | 'resolve' | 'hand_back' | 'mark' | 'article';

export function Conversation({
  id,
  version,
  onChanged,
  onClosed,
}: {
  id: string;
  version: number;
  agent: Agent;
  onChanged: () => void;
  onClosed: () => void;
}) {
  const [view, setView] = useState<ConversationView | null>(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [reply, setReply] = useState('');
  const [draftUsed, setDraftUsed] = useState<{ replyId: string; text: string } | null>(null);
  const [panel, setPanel] = useState<Panel>('none');
  const [note, setNote] = useState('');
  const [article, setArticle] = useState({ title: '', body: '' });
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setView(await api.conversation(id));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load, version]);

  // The AI's draft fills an empty reply box; the agent edits it before sending.
  const draft = view?.draft;
  useEffect(() => {
    if (draft && !reply) {
      setReply(draft.text);
      setDraftUsed({ replyId: draft.replyId, text: draft.text });
    }
  }, [draft?.replyId]); // only when a new draft arrives

  if (error && !view) return <p className="error">{error}</p>;
  if (!view) return <p className="empty center">Loading…</p>;

  const { conversation: c, lane } = view;
  const h = c.handoff;
  const handoffId = h?.handoffId ?? '';
  const open = c.status === 'with_human' || c.status === 'awaiting_human';
  const mine = lane === 'mine' && open && !h?.handedBackAt;
  const offered = lane === 'offered' && open;
  const heldByMe = lane === 'mine' || lane === 'offered' || (c.humanStretches ?? []).length > 0;

  const act = async (action: Record<string, unknown>, done: string) => {
    setBusy(true);
    setError('');
    try {
      await api.act(id, { handoffId, ...action });
      setNotice(done);
      setPanel('none');
      setNote('');
      onChanged();
      // The log answers within a moment; the stream refreshes the view, this covers a missed update.
      setTimeout(() => void load(), 800);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const send = async (e: FormEvent) => {
    e.preventDefault();
    const text = reply.trim();
    if (!text) return;
    await act(
      {
        type: 'reply',
        text,
        draftReplyId: draftUsed?.replyId ?? '',
        draftEdited: draftUsed ? draftUsed.text.trim() !== text : false,
      },
      'Sent.',
    );
    setReply('');
    setDraftUsed(null);
  };

  const openArticle = () => {
    setArticle(view.articleDraft);
    setPanel('article');
  };

  return (
    <article className="conversation" data-testid="conversation">
      <header className="conversation-head">
        <div>
          <h1>{c.customerId || 'Customer'}</h1>
          <p className="meta">
            {c.channel} · {c.locale || 'language unknown'} · {statusText(c.status)}
            {h?.agent
              ? ` · ${h.agent.agentName}${h.agent.acceptedAt ? '' : ' (not accepted yet)'}`
              : ''}
          </p>
        </div>
        <button className="link" onClick={onClosed} aria-label="Close">
          ×
        </button>
      </header>

      {offered && (
        <div className="offer" role="region" aria-label="Offer">
          <p>
            This conversation is offered to you
            {view.assignment?.acceptBy
              ? `; accept within ${secondsLeft(view.assignment.acceptBy)} s`
              : ''}
            .
          </p>
          <button
            onClick={() =>
              void act({ type: 'accept' }, 'Accepted: the customer is told you joined.')
            }
            disabled={busy}
          >
            Accept
          </button>
          <button className="secondary" onClick={() => setPanel('decline')} disabled={busy}>
            Decline
          </button>
        </div>
      )}

      {lane === 'review' && view.review && (
        <ReviewPanel key={view.review.replyId} review={view.review} busy={busy} act={act} />
      )}

      <BriefingPanel
        briefing={view.briefing}
        fallbackSummary={h?.summary ?? ''}
        triggers={h?.triggers ?? []}
      />

      <section className="transcript" aria-label="Transcript">
        <h2>Conversation</h2>
        <ol>
          {c.transcript.map((line, i) => (
            <li key={i} className={`line ${line.speaker}`}>
              <span className="speaker">{speakerName(line.speaker, line.author)}</span>
              <span className="text">{line.text}</span>
              <time dateTime={line.at}>{time(line.at)}</time>
            </li>
          ))}
        </ol>
      </section>

      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {mine && (
        <form className="reply" onSubmit={send} aria-label="Reply">
          {draftUsed && (
            <p className="draft-label">
              AI draft{draft ? ` (confidence ${Math.round(draft.confidence * 100)}%)` : ''}: edit it
              before you send
              {draft?.citations.length
                ? ` · from ${draft.citations.map((x) => x.title).join(', ')}`
                : ''}
            </p>
          )}
          <textarea
            name="reply"
            rows={4}
            value={reply}
            onChange={(e) => setReply(e.target.value)}
            placeholder="Write to the customer…"
          />
          <div className="actions">
            <button type="submit" disabled={busy || !reply.trim()}>
              Send
            </button>
            <button type="button" className="secondary" onClick={() => setPanel('resolve')}>
              Resolve
            </button>
            <button type="button" className="secondary" onClick={() => setPanel('hand_back')}>
              Hand back to AI
            </button>
          </div>
        </form>
      )}

      {heldByMe && h && (
        <div className="after-actions">
          <button className="link" onClick={() => setPanel('mark')} disabled={!!h.falseEscalation}>
            {h.falseEscalation
              ? 'Marked: the AI could have handled this'
              : 'The AI could have handled this'}
          </button>
          <button className="link" onClick={openArticle}>
            Add to knowledge base
          </button>
          {(h.articleDrafts ?? []).map((d) => (
            <span key={d.draftId} className="chip">
              draft: {d.title}
            </span>
          ))}
        </div>
      )}

      {(panel === 'decline' ||
        panel === 'resolve' ||
        panel === 'hand_back' ||
        panel === 'mark') && (
        <form
          className="panel"
          aria-label={PANEL_TITLE[panel]}
          onSubmit={(e) => {
            e.preventDefault();
            const action =
              panel === 'decline'
                ? { type: 'decline', reason: note }
                : panel === 'mark'
                  ? { type: 'mark_false_escalation', note }
                  : { type: panel, note };
            void act(action, PANEL_DONE[panel]);
          }}
        >
          <h2>{PANEL_TITLE[panel]}</h2>
          <label>
            {panel === 'decline'
              ? 'Reason (optional)'
              : panel === 'hand_back'
                ? 'Note for the AI (what was done)'
                : 'Note (optional)'}
            <textarea name="note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              {PANEL_TITLE[panel]}
            </button>
            <button type="button" className="secondary" onClick={() => setPanel('none')}>
              Cancel
            </button>
          </div>
        </form>
      )}

      {panel === 'article' && (
        <form
          className="panel"
          aria-label="Add to knowledge base"
          onSubmit={(e) => {
            e.preventDefault();
            void act(
              { type: 'propose_article', title: article.title, body: article.body },
              'Draft article sent for approval.',
            );
          }}
        >
          <h2>Add to knowledge base</h2>
          <p className="hint">
            A draft from this resolution; it is used in answers once someone approves it.
          </p>
          <label>
            Title
            <input
              name="title"
              value={article.title}
              onChange={(e) => setArticle({ ...article, title: e.target.value })}
              required
            />
          </label>
          <label>
            Article
            <textarea
              name="body"
              rows={6}
              value={article.body}
              onChange={(e) => setArticle({ ...article, body: e.target.value })}
              required
            />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Propose draft
            </button>
            <button type="button" className="secondary" onClick={() => setPanel('none')}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </article>
  );
}

const PANEL_TITLE = {
  decline: 'Decline',
  resolve: 'Resolve',
  hand_back: 'Hand back to AI',
  mark: 'The AI could have handled this',
} as const;

const PANEL_DONE = {
  decline: 'Declined: it goes to someone else.',
  resolve: 'Resolved.',
  hand_back: 'Handed back: the AI answers from the next message on.',
  mark: 'Marked as a conversation the AI could have handled.',
} as const;

function statusText(status: string): string {
  return (
    {
      awaiting_human: 'waiting for a person',
      with_human: 'with a person',
      ai_handling: 'with the AI',
      resolved_by_human: 'resolved by a person',
      resolved_by_ai: 'resolved by the AI',
      reopened: 'reopened',
    }[status] ?? status
  );
}

function speakerName(speaker: string, author?: string): string {
  if (speaker === 'agent') return author || 'Agent';
  return { customer: 'Customer', ai: 'AI', system: '' }[speaker] ?? speaker;
}

function secondsLeft(iso: string): number {
  return Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
}

function BriefingPanel({
  briefing,
  fallbackSummary,
  triggers,
}: {
  briefing: Briefing | null;
  fallbackSummary: string;
  triggers: { rule: string; detail?: string }[];
}) {
  const b = briefing?.briefing ?? {};
  const why = briefing?.triggers ?? triggers;
  const account = b.account;
  return (
    <section className="briefing" aria-label="Briefing" data-testid="briefing">
      <h2>
        Briefing{' '}
        <span className={`priority p-${priorityName(briefing?.priority)}`}>
          {priorityName(briefing?.priority)}
        </span>
      </h2>
      <p className="summary" data-testid="briefing-summary">
        {b.summary || fallbackSummary}
        {b.summaryGenerator && b.summaryGenerator !== 'extractive' ? (
          <small> (summary by {b.summaryGenerator})</small>
        ) : null}
      </p>
      <dl>
        <dt>Why a person</dt>
        <dd>
          <ul>
            {why.map((t, i) => (
              <li key={i}>
                <strong>{ruleName(t.rule)}</strong>
                {t.detail ? `: ${t.detail}` : ''}
              </li>
            ))}
            {(briefing?.priorityReasons ?? []).map((t, i) => (
              <li key={`p${i}`}>
                priority: <strong>{ruleName(t.rule)}</strong>
                {t.detail ? `: ${t.detail}` : ''}
              </li>
            ))}
          </ul>
        </dd>
        {(b.intent || b.topic) && (
          <>
            <dt>Topic</dt>
            <dd>{[b.intent, b.topic].filter(Boolean).join(' · ')}</dd>
          </>
        )}
        <dt>Account</dt>
        <dd data-testid="briefing-account">
          {account ? (
            <>
              <strong>{account.name || account.accountId}</strong> {account.tier}{' '}
              {account.plan ? `· ${account.plan}` : ''}
              {account.vip ? <span className="chip vip">VIP</span> : null}
              {account.atRisk ? <span className="chip risk">at risk</span> : null}
              {account.monthlyValue
                ? ` · ${money(account.monthlyValue, account.currency)}/month`
                : ''}
              {account.sla ? ` · SLA ${account.sla}` : ''}
              {(account.openInvoices ?? []).map((inv, i) => (
                <div key={i} className="sub">
                  invoice {inv.invoiceId}: {money(inv.amount, inv.currency)} {inv.status}
                </div>
              ))}
              {(account.openIncidents ?? []).map((inc, i) => (
                <div key={i} className="sub">
                  incident: {inc.title} ({inc.severity})
                </div>
              ))}
            </>
          ) : (
            <span className="muted">
              {b.accountLookup === 'unavailable' ? 'CRM unavailable' : 'no account on file'}
            </span>
          )}
        </dd>
        <dt>What the AI tried</dt>
        <dd>
          {(b.aiAttempts ?? []).length || (b.articlesTried ?? []).length ? (
            <ul>
              {(b.aiAttempts ?? []).map((a, i) => (
                <li key={i}>{a}</li>
              ))}
              {(b.articlesTried ?? []).length > 0 && (
                <li>articles: {(b.articlesTried ?? []).join(', ')}</li>
              )}
            </ul>
          ) : (
            <span className="muted">nothing: handed over at once</span>
          )}
        </dd>
        <dt>Details collected</dt>
        <dd>
          {(b.collectedDetails ?? []).length ? (
            <ul>
              {(b.collectedDetails ?? []).map((d) => (
                <li key={d.name}>
                  {d.name.replace(/_/g, ' ')}: <strong>{d.value}</strong>
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">none</span>
          )}
          {(b.missingDetails ?? []).length > 0 && (
            <div className="sub">
              still missing: {(b.missingDetails ?? []).join(', ').replace(/_/g, ' ')}
            </div>
          )}
        </dd>
        {(b.page?.url || b.pageUrl) && (
          <>
            <dt>Page</dt>
            <dd>{b.page?.path || b.pageUrl}</dd>
          </>
        )}
        {b.trajectory && (
          <>
            <dt>Sentiment</dt>
            <dd>
              {(b.trajectory.smoothed ?? 0).toFixed(2)} (
              {(b.trajectory.change ?? 0) >= 0 ? '+' : ''}
              {(b.trajectory.change ?? 0).toFixed(2)} since the start)
              {b.trajectory.shift ? ' · turned negative' : ''}
            </dd>
          </>
        )}
      </dl>
      {briefing === null && <p className="muted">The full briefing is on its way…</p>}
    </section>
  );
}
