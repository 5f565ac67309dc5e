import { OutboundKind, Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import { notice } from '@support/notices';
import {
  confirmByCustomer,
  confirmRefusal,
  csatRequestIdFor,
  decideRating,
  isQuietDue,
  quietDueAt,
  resolveByQuietWindow,
  type RatingDecision,
} from './closing';

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const ms = (n: number) => Date.parse(t(n));
const WINDOW = 10_000;

const received = (n: number, locale = 'en'): ConversationEvent =>
  conversationEvent(
    C,
    `e-m${n}`,
    'customerMessageReceived',
    {
      messageId: `m${n}`,
      channel: 'web',
      externalConversationId: 'ext-1',
      customerId: 'cust-1',
      text: 'How do I reset my password?',
      locale,
      pageUrl: '',
      idempotencyKey: `m${n}`,
      accountId: '',
      sentAt: '',
    },
    t(n),
  );
const proposed = (n: number, m: number): ConversationEvent =>
  conversationEvent(
    C,
    `p-m${m}`,
    'aiReplyProposed',
    {
      messageId: `m${m}`,
      replyId: `rep-${m}`,
      text: 'Use the reset link',
      confidence: 0.9,
    },
    t(n),
  );
const released = (n: number, m: number): ConversationEvent =>
  conversationEvent(
    C,
    `r-m${m}`,
    'aiReplyReleased',
    { messageId: `m${m}`, replyId: `rep-${m}`, text: 'Use the reset link', confidence: 0.9 },
    t(n),
  );
const scored = (n: number, m: number): ConversationEvent =>
  conversationEvent(
    C,
    `s-m${m}`,
    'messageScored',
    { messageId: `m${m}`, valence: 0.2, label: 'neutral', signals: [] },
    t(n),
  );
const handoff = (n: number): ConversationEvent =>
  conversationEvent(
    C,
    `h-${n}`,
    'handoffRequested',
    {
      handoffId: 'ho-1',
      messageId: 'm1',
      triggers: [],
      priority: Priority.NORMAL,
      requiredSkills: [],
      language: 'en',
      policyVersion: 'v1',
    },
    t(n),
  );
const assigned = (n: number): ConversationEvent =>
  conversationEvent(
    C,
    `a-${n}`,
    'agentAssigned',
    { handoffId: 'ho-1', agentId: 'ag-1', agentName: 'Ada', team: 'Support' },
    t(n),
  );
const handedBack = (n: number): ConversationEvent =>
  conversationEvent(
    C,
    `b-${n}`,
    'handedBack',
    { handoffId: 'ho-1', agentId: 'ag-1', agentName: 'Ada', note: '' },
    t(n),
  );

const given = (...events: ConversationEvent[]): ConversationState => fold(C, events);
const answered = (locale = 'en') => given(received(1, locale), proposed(2, 1), released(3, 1));
const resolvedPayload = (e: ConversationEvent) => {
  if (e.payload.case !== 'conversationResolved')
    throw new Error(`not a resolution: ${e.payload.case}`);
  return e.payload.value;
};

describe('the customer confirms the AI answered their question', () => {
  it('given the AI answered, then they may, and it is resolved as the AI by the customer, not assumed', () => {
    const state = answered();
    expect(confirmRefusal(state)).toBeUndefined();
    const closing = confirmByCustomer(state, t(20));
    expect(resolvedPayload(closing.events[0])).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'customer',
        assumed: false,
      }),
    );
    expect(fold(C, closing.events, state).status).toBe('resolved_by_ai');
  });

  it('given a person was asked for, or has it, then they may not: the person closes it', () => {
    expect(confirmRefusal(given(received(1), released(2, 1), handoff(3)))?.reason).toBe(
      'awaiting_person',
    );
    expect(
      confirmRefusal(given(received(1), released(2, 1), handoff(3), assigned(4)))?.reason,
    ).toBe('with_person');
  });

  it('given the person handed it back and the AI answered again, then they may', () => {
    const state = given(
      received(1),
      handoff(2),
      assigned(3),
      handedBack(4),
      received(5),
      released(6, 5),
    );
    expect(confirmRefusal(state)).toBeUndefined();
  });

  it('given nothing from the AI yet, a resolved conversation or none at all, then they may not', () => {
    expect(confirmRefusal(given(received(1)))?.reason).toBe('no_ai_reply');
    const state = answered();
    const resolved = fold(C, confirmByCustomer(state, t(9)).events, state);
    expect(confirmRefusal(resolved)?.reason).toBe('already_resolved');
    expect(confirmRefusal(given())?.reason).toBe('not_found');
  });
});

describe('the quiet window', () => {
  it('given the AI answered last, then it is due the window after the answer', () => {
    const state = answered();
    expect(quietDueAt(state, WINDOW)).toBe(ms(3) + WINDOW);
    expect(isQuietDue(state, WINDOW, ms(3) + WINDOW - 1)).toBe(false);
    expect(isQuietDue(state, WINDOW, ms(3) + WINDOW)).toBe(true);
  });

  it('given later events that say nothing (a score), then the window still runs from the answer', () => {
    expect(quietDueAt(given(received(1), released(3, 1), scored(4, 1)), WINDOW)).toBe(
      ms(3) + WINDOW,
    );
  });

  it('given only a draft (a proposal not released), then there is no window', () => {
    expect(quietDueAt(given(received(1), proposed(2, 1)), WINDOW)).toBeUndefined();
  });

  it('given the customer wrote after the answer, then there is no window', () => {
    expect(quietDueAt(given(received(1), released(3, 1), received(4)), WINDOW)).toBeUndefined();
  });

  it('given a handoff, a person, or a resolution, then there is no window', () => {
    const base = [received(1), released(2, 1)];
    expect(quietDueAt(given(...base, handoff(3)), WINDOW)).toBeUndefined();
    expect(quietDueAt(given(...base, handoff(3), assigned(4)), WINDOW)).toBeUndefined();
    const state = answered();
    const resolved = fold(C, resolveByQuietWindow(state, t(30)).events, state);
    expect(quietDueAt(resolved, WINDOW)).toBeUndefined();
  });

  it('given the window passed, then it resolves as the AI, assumed, by the quiet window', () => {
    const closing = resolveByQuietWindow(answered(), t(30));
    expect(resolvedPayload(closing.events[0])).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'quiet_window',
        assumed: true,
      }),
    );
    expect(fold(C, closing.events, answered()).lastResolution?.assumed).toBe(true);
  });
});

describe('what a resolution appends', () => {
  it('asks for a rating in the conversation language, under ids that follow from the resolution', () => {
    const state = answered('de-AT');
    const closing = confirmByCustomer(state, t(20));
    const [resolved, requested] = closing.events;
    expect(closing.requestId).toBe(csatRequestIdFor(resolved.eventId));
    expect(requested.payload).toEqual({
      case: 'csatRequested',
      value: expect.objectContaining({ requestId: closing.requestId, channel: 'web' }),
    });
    expect(closing.outbound).toEqual(
      expect.objectContaining({
        conversationId: C,
        channel: 'web',
        externalConversationId: 'ext-1',
        customerId: 'cust-1',
        kind: OutboundKind.CSAT_REQUEST,
        csatRequestId: closing.requestId,
        author: 'system',
        text: notice('csatRequest', 'de'),
      }),
    );
  });

  it('is the same records when resolved again from the same state, by any path (one request)', () => {
    const state = answered();
    const a = confirmByCustomer(state, t(20));
    const b = resolveByQuietWindow(state, t(21));
    expect(b.events.map((e) => e.eventId)).toEqual(a.events.map((e) => e.eventId));
    expect(b.outbound.messageId).toBe(a.outbound.messageId);
  });

  it('is a new request after the customer wrote again and the conversation was resolved again', () => {
    const state = answered();
    const first = confirmByCustomer(state, t(20));
    const reopened = fold(C, [...first.events, received(21), released(22, 21)], state);
    expect(reopened.status).toBe('ai_handling');
    const second = confirmByCustomer(reopened, t(23));
    expect(second.requestId).not.toBe(first.requestId);
  });
});

describe('a rating', () => {
  const appended = (d: RatingDecision) => {
    if (d.kind !== 'append') throw new Error(`expected an event, got ${JSON.stringify(d)}`);
    return d.event;
  };
  const rejected = (d: RatingDecision) => {
    if (d.kind !== 'reject') throw new Error('expected a rejection');
    return d.rejection;
  };
  const asked = () => {
    const state = answered();
    const closing = confirmByCustomer(state, t(20));
    return { state: fold(C, closing.events, state), requestId: closing.requestId };
  };

  it('given a request, then it answers the named request, or the latest when none is named', () => {
    const { state, requestId } = asked();
    for (const named of [requestId, '']) {
      const event = appended(
        decideRating(state, { requestId: named, score: 4, comment: '  fine ' }, 'ev-1', t(30)),
      );
      expect(event.payload).toEqual({
        case: 'csatRated',
        value: expect.objectContaining({ requestId, score: 4, comment: 'fine' }),
      });
    }
  });

  it('given no request at all (never resolved), then 409 on csat', () => {
    expect(
      rejected(decideRating(answered(), { requestId: '', score: 5, comment: '' }, 'ev-1')),
    ).toEqual(expect.objectContaining({ field: 'csat', rule: 'requested', status: 409 }));
  });

  it('given a request of another conversation, then 409 on requestId', () => {
    const { state } = asked();
    expect(
      rejected(decideRating(state, { requestId: 'other', score: 5, comment: '' }, 'ev-1')),
    ).toEqual(expect.objectContaining({ field: 'requestId', rule: 'known_request', status: 409 }));
  });

  it('given no conversation, then 404', () => {
    expect(
      rejected(decideRating(given(), { requestId: '', score: 5, comment: '' }, 'ev-1')).status,
    ).toBe(404);
  });

  it('given the conversation reopened after the request, then the request may still be rated', () => {
    const { state, requestId } = asked();
    const reopened = fold(C, [received(25)], state);
    expect(reopened.status).toBe('reopened');
    expect(
      appended(decideRating(reopened, { requestId, score: 2, comment: '' }, 'ev-2')).payload.case,
    ).toBe('csatRated');
  });
});
