import { useCallback, useEffect, useState } from 'react';
import { knowledgeApi, type Agent, type KnowledgeSuggestion, type SuggestionStatus } from './api';

const TABS: { status: SuggestionStatus; title: string }[] = [
  { status: 'pending', title: 'Pending' },
  { status: 'approved', title: 'Approved' },
  { status: 'rejected', title: 'Rejected' },
  { status: 'expired', title: 'Expired' },
];
/** The list is polled: suggestions arrive from the AI responder at any time. */
const POLL_MS = 4000;

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** The knowledge suggestions made from people's resolutions, for approval. */
export function Knowledge({ agent: _agent }: { agent: Agent }) {
  const [status, setStatus] = useState<SuggestionStatus>('pending');
  const [items, setItems] = useState<KnowledgeSuggestion[]>([]);
  const [error, setError] = useState('');

  const load = useCallback(() => {
    knowledgeApi.suggestions(status).then(
      (r) => {
        setItems(r.suggestions);
        setError('');
      },
      (err: Error) => setError(err.message),
    );
  }, [status]);

  useEffect(() => {
    load();
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <main className="knowledge" aria-label="Knowledge suggestions">
      <h1>Knowledge suggestions</h1>
      <p className="hint">
        What people answered when the AI handed a question to them. Approve one and the AI answers
        from it from the next question on; near-duplicates are merged, and suggestions nobody
        reviews expire.
      </p>
      <nav className="tabs" aria-label="Suggestion status">
        {TABS.map((t) => (
          <button
            key={t.status}
            type="button"
            aria-pressed={t.status === status}
            onClick={() => setStatus(t.status)}
          >
            {t.title}
          </button>
        ))}
      </nav>
      {error && <p role="alert">{error}</p>}
      {items.length === 0 && <p className="empty">No {status} suggestions.</p>}
      {items.map((s) => (
        <SuggestionCard key={s.suggestionId} suggestion={s} onReviewed={load} />
      ))}
    </main>
  );
}

function SuggestionCard({
  suggestion: s,
  onReviewed,
}: {
  suggestion: KnowledgeSuggestion;
  onReviewed: () => void;
}) {
  const [title, setTitle] = useState(s.title);
  const [body, setBody] = useState(s.body);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const pending = s.status === 'pending';

  const review = (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    action().then(
      () => {
        setMessage(done);
        onReviewed();
      },
      (err: Error) => {
        setMessage(err.message);
        setBusy(false);
      },
    );
  };

  return (
    <article
      className="suggestion"
      data-testid="suggestion"
      data-suggestion-id={s.suggestionId}
      data-status={s.status}
    >
      <header className="meta">
        <span className="chip">{s.topic || 'no topic'}</span>{' '}
        <span>
          asked {s.occurrences} {s.occurrences === 1 ? 'time' : 'times'}
        </span>{' '}
        <span>{s.origin === 'agent' ? 'proposed by an agent' : 'from a resolution'}</span>{' '}
        {pending ? (
          <span>expires {when(s.expiresAt)}</span>
        ) : (
          <span>
            {s.status} {when(s.updatedAt)}
            {s.reviewerId ? ` by ${s.reviewerId}` : ''}
            {s.articleId ? ` as ${s.articleId}` : ''}
          </span>
        )}
      </header>
      <details>
        <summary>Asked in {s.sources.length} conversation(s)</summary>
        <ul>
          {s.sources.map((src) => (
            <li key={`${src.conversationId}/${src.handoffId}`}>
              “{src.question || '(no question)'}” — {src.agentId}
            </li>
          ))}
        </ul>
      </details>
      <label>
        Title
        <input
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          disabled={!pending || busy}
        />
        <small>
          Keep it in the customers&apos; words: the AI looks answers up by the question.
        </small>
      </label>
      <label>
        Article
        <textarea
          rows={8}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          disabled={!pending || busy}
        />
      </label>
      {pending && (
        <div className="actions">
          <button
            type="button"
            disabled={busy || !title.trim() || !body.trim()}
            onClick={() =>
              review(
                () => knowledgeApi.approve(s.suggestionId, { title, body }),
                'Approved: publishing…',
              )
            }
          >
            Approve
          </button>
          <input
            aria-label="Reason"
            placeholder="Reason (optional)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            disabled={busy}
          />
          <button
            type="button"
            disabled={busy}
            onClick={() => review(() => knowledgeApi.reject(s.suggestionId, reason), 'Rejected')}
          >
            Reject
          </button>
        </div>
      )}
      {message && <p role="status">{message}</p>}
    </article>
  );
}
