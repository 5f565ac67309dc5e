import { useState, type FormEvent } from 'react';
import type { ConversationView } from './api';
import { ruleName } from './format';

type Draft = NonNullable<ConversationView['review']>;

/**
 * A review of the AI's draft: the reviewer sends it as is, edits and sends
 * it (both go to the customer as the AI's answer, and the AI carries on), or
 * takes the conversation over (a handoff they hold).
 */
export function ReviewPanel({
  review,
  busy,
  act,
}: {
  review: Draft;
  busy: boolean;
  act: (action: Record<string, unknown>, done: string) => Promise<void>;
}) {
  const [text, setText] = useState(review.text);
  const edited = text.trim() !== review.text.trim();

  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    await act(
      edited
        ? { type: 'review', outcome: 'edit', text: text.trim() }
        : { type: 'review', outcome: 'approve' },
      edited ? 'Your edited answer was sent.' : 'The AI answer was approved and sent.',
    );
  };

  return (
    <form className="review" onSubmit={send} aria-label="Review">
      <h2>Check the AI answer before the customer gets it</h2>
      <p className="draft-label">
        Confidence {Math.round(review.confidence * 100)}%
        {review.rules.length ? ` · held by ${review.rules.map(ruleName).join(', ')}` : ''}
        {review.citations.length
          ? ` · from ${review.citations.map((c) => c.title).join(', ')}`
          : ''}
        . The customer was told an answer is being checked.
      </p>
      <textarea
        name="review"
        aria-label="AI answer"
        rows={5}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="actions">
        <button type="submit" disabled={busy || !text.trim()}>
          {edited ? 'Send edited answer' : 'Approve and send'}
        </button>
        {edited && (
          <button type="button" className="secondary" onClick={() => setText(review.text)}>
            Undo edits
          </button>
        )}
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() =>
            void act(
              { type: 'review', outcome: 'take_over' },
              'You took the conversation over: the customer is told you joined.',
            )
          }
        >
          Take over
        </button>
      </div>
    </form>
  );
}
