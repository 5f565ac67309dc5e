import { Priority, ReplyKind, Resolution } from '@support/contracts';
import { conversationEvent } from './events';
import { evolve, fold, RECENT_EVENT_IDS } from './evolve';
import { initialState, isBotActive, type ConversationState } from './state';

/** The state as its readers see it: the window of applied ids is in the order applied, so compared as a set. */
const visible = (s: ConversationState) => ({
  ...s,
  appliedEventIds: [...s.appliedEventIds].sort(),
});

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;

const received = (id: string, text: string, n: number) =>
  conversationEvent(
    C,
    `e-${id}`,
    'customerMessageReceived',
    {
      messageId: id,
      channel: 'web',
      externalConversationId: 'ext',
      customerId: 'cust',
      text,
      locale: 'en',
      pageUrl: '',
      idempotencyKey: id,
      accountId: 'acct-1',
      sentAt: '',
    },
    t(n),
  );
const released = (id: string, n: number) =>
  conversationEvent(
    C,
    `r-${id}`,
    'aiReplyReleased',
    { messageId: id, replyId: `rep-${id}`, text: 'Here is how', confidence: 0.9, citations: [] },
    t(n),
  );
const handoff = (id: string, n: number) =>
  conversationEvent(
    C,
    `h-${id}`,
    'handoffRequested',
    {
      handoffId: `ho-${id}`,
      messageId: id,
      triggers: [
        { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
      ],
      priority: Priority.NORMAL,
      requiredSkills: ['general'],
      language: 'en',
      policyVersion: 'v1',
    },
    t(n),
  );
const assigned = (id: string, n: number) =>
  conversationEvent(
    C,
    `a-${id}`,
    'agentAssigned',
    { handoffId: `ho-${id}`, agentId: 'ag-1', agentName: 'Ada', team: 'Support' },
    t(n),
  );
const resolved = (resolution: Resolution, n: number) =>
  conversationEvent(
    C,
    `res-${n}`,
    'conversationResolved',
    { resolution, resolvedBy: 'customer', note: '' },
    t(n),
  );

describe('conversation evolve', () => {
  it('given a new conversation, when the customer writes, then the AI handles it', () => {
    const s = fold(C, [received('m1', 'How do I export invoices?', 1)]);
    expect(s.status).toBe('ai_handling');
    expect(s.messages).toHaveLength(1);
    expect(s.startedAt).toBe(t(1));
    expect(s.accountId).toBe('acct-1');
    expect(isBotActive(s)).toBe(true);
  });

  it('given a handoff, when an agent is assigned, then the conversation is with a human and the bot is quiet', () => {
    const awaiting = fold(C, [received('m1', 'I want a human', 1), handoff('m1', 2)]);
    expect(awaiting.status).toBe('awaiting_human');
    expect(isBotActive(awaiting)).toBe(false);
    const withHuman = evolve(awaiting, assigned('m1', 3));
    expect(withHuman.status).toBe('with_human');
    expect(withHuman.handoff?.agent?.agentName).toBe('Ada');
    expect(withHuman.messages[0].decision?.kind).toBe('handoff');
  });

  it('moves through resolved by AI, reopened and back to AI handling', () => {
    const s1 = fold(C, [received('m1', 'q', 1), released('m1', 2), resolved(Resolution.AI, 3)]);
    expect(s1.status).toBe('resolved_by_ai');
    const s2 = evolve(s1, received('m2', 'it broke again', 4));
    expect(s2.status).toBe('reopened');
    expect(s2.reopenCount).toBe(1);
    expect(evolve(s2, released('m2', 5)).status).toBe('ai_handling');
  });

  it('records a human resolution', () => {
    const s = fold(C, [
      received('m1', 'q', 1),
      handoff('m1', 2),
      assigned('m1', 3),
      resolved(Resolution.HUMAN, 4),
    ]);
    expect(s.status).toBe('resolved_by_human');
  });

  it('applies a repeated event once', () => {
    const once = fold(C, [received('m1', 'q', 1)]);
    const twice = evolve(once, received('m1', 'q', 1));
    expect(twice).toBe(once);
    expect(twice.messages).toHaveLength(1);
  });

  it('ignores events of another conversation', () => {
    const s = initialState(C);
    const other = conversationEvent('other', 'x', 'handoffQueued', { handoffId: 'h', queue: 'q' });
    expect(evolve(s, other)).toBe(s);
  });

  it('joins the proposal and the score onto their message', () => {
    const s = fold(C, [
      received('m1', 'q', 1),
      conversationEvent(
        C,
        'p1',
        'messageScored',
        { messageId: 'm1', valence: -0.4, label: 'negative', signals: ['frustration'] },
        t(2),
      ),
      conversationEvent(
        C,
        'p2',
        'aiReplyProposed',
        {
          messageId: 'm1',
          replyId: 'r',
          text: 'a',
          confidence: 0.7,
          citations: [],
          intent: 'how_to',
          articlesTried: ['kb-1'],
        },
        t(3),
      ),
    ]);
    expect(s.messages[0].score?.signals).toEqual(['frustration']);
    expect(s.messages[0].proposal?.confidence).toBe(0.7);
  });

  it('keeps the frustration score and its smoothed value, and leaves them out of older scores', () => {
    const scored = (id: string, frustration?: number) =>
      conversationEvent(
        C,
        `s-${id}`,
        'messageScored',
        {
          messageId: id,
          valence: -0.6,
          label: 'negative',
          signals: [],
          ...(frustration === undefined ? {} : { frustration }),
          trajectory: {
            smoothed: -0.6,
            start: -0.6,
            change: 0,
            messages: 1,
            ...(frustration === undefined ? {} : { frustration: frustration / 2 }),
          },
        },
        t(2),
      );
    const s = fold(C, [received('m1', 'q', 1), scored('m1', 0.84), received('m2', 'q', 3)]);
    expect(s.messages[0].score?.frustration).toBe(0.84);
    expect(s.messages[0].score?.trajectory?.frustration).toBe(0.42);

    const old = fold(C, [received('m1', 'q', 1), scored('m1')]);
    expect(old.messages[0].score).not.toHaveProperty('frustration');
    expect(old.messages[0].score?.trajectory).not.toHaveProperty('frustration');
  });

  it('keeps the details the AI collected across messages, the latest value winning', () => {
    const proposed = (id: string, n: number, details: [string, string][], kind: ReplyKind) =>
      conversationEvent(
        C,
        `p-${id}`,
        'aiReplyProposed',
        {
          messageId: id,
          replyId: `r-${id}`,
          text: 'Could you send the invoice number?',
          confidence: 0.8,
          intent: 'billing',
          kind,
          missingDetails: ['invoice_or_order_number'],
          collectedDetails: details.map(([name, value]) => ({ name, value, messageId: id })),
        },
        t(n),
      );
    const s = fold(C, [
      received('m1', 'charged twice, ana@example.com', 1),
      proposed('m1', 2, [['account_email', 'ana@example.com']], ReplyKind.INTAKE),
      received('m2', 'INV-0042, and use ana@corp.example instead', 3),
      proposed(
        'm2',
        4,
        [
          ['account_email', 'ana@corp.example'],
          ['invoice_or_order_number', 'INV-0042'],
        ],
        ReplyKind.NO_ANSWER,
      ),
    ]);
    expect(s.details).toEqual([
      { name: 'account_email', value: 'ana@corp.example', messageId: 'm2' },
      { name: 'invoice_or_order_number', value: 'INV-0042', messageId: 'm2' },
    ]);
    expect(s.messages.map((m) => m.proposal?.kind)).toEqual(['intake', 'no_answer']);
    expect(s.messages[0].proposal?.missingDetails).toEqual(['invoice_or_order_number']);
  });

  it("is the same state whichever order a service applies the writers' events in", () => {
    // The decider folds its own release at once; the log may hold the next customer message first.
    const events = [received('m1', 'q1', 1), released('m1', 2), received('m2', 'q2', 3)];
    const inLogOrder = fold(C, [events[0], events[2], events[1]]);
    const ownFirst = fold(C, events);
    expect(visible(inLogOrder)).toEqual(visible(ownFirst));
    expect(ownFirst.transcript.map((l) => l.text)).toEqual(['q1', 'Here is how', 'q2']);
    expect(ownFirst.lastActivityAt).toBe(t(3));
  });

  it('keeps a bounded window of applied ids, and a repeat within it changes nothing', () => {
    const events = Array.from({ length: RECENT_EVENT_IDS + 40 }, (_, i) =>
      received(`m${i}`, `q${i}`, i % 60),
    );
    const s = fold(C, events);
    expect(s.appliedEventIds).toHaveLength(RECENT_EVENT_IDS);
    expect(s.appliedEventIds.at(-1)).toBe(events.at(-1)!.eventId);
    expect(s.appliedEventIds).not.toContain(events[0].eventId);
    expect(s.messages).toHaveLength(events.length);
    const repeat = events[events.length - RECENT_EVENT_IDS];
    expect(evolve(s, repeat)).toBe(s);
  });

  it('is the same state when rebuilt from JSON (snapshots round-trip)', () => {
    const s = fold(C, [received('m1', 'q', 1), handoff('m1', 2)]);
    const restored = JSON.parse(JSON.stringify(s));
    expect(evolve(restored, assigned('m1', 3))).toEqual(evolve(s, assigned('m1', 3)));
  });
});

describe('conversation evolve: the off-hours follow-up', () => {
  const DUE = '2026-01-05T08:00:00.000Z';
  const created = (eventId: string, handoffId: string, contact: string, n: number) =>
    conversationEvent(C, eventId, 'followUpCreated', { handoffId, dueAt: DUE, contact }, t(n));
  const contactAdded = (eventId: string, handoffId: string, contact: string, n: number) =>
    conversationEvent(
      C,
      eventId,
      'followUpContactAdded',
      { handoffId, contact, messageId: `m-${eventId}` },
      t(n),
    );
  const queued = (id: string, n: number) =>
    conversationEvent(
      C,
      `q-${id}`,
      'handoffQueued',
      { handoffId: `ho-${id}`, queue: 'general' },
      t(n),
    );
  const waiting = () =>
    fold(C, [received('m1', 'I want a human', 1), handoff('m1', 2), queued('m1', 3)]);

  it('records when a person follows up, and the address the customer already gave', () => {
    const s = evolve(waiting(), created('f1', 'ho-m1', 'ana@example.com', 4));
    expect(s.handoff?.followUp).toEqual({
      dueAt: DUE,
      contact: 'ana@example.com',
      createdAt: t(4),
    });
    expect(s.handoff?.queue).toBe('general');
    expect(s.status).toBe('awaiting_human');
    expect(s.lastActivityAt).toBe(t(4));
  });

  it('adds the address the customer gives afterwards', () => {
    const s = fold(C, [
      ...[received('m1', 'I want a human', 1), handoff('m1', 2), queued('m1', 3)],
      created('f1', 'ho-m1', '', 4),
      received('m2', 'ana@example.com', 5),
      contactAdded('c1', 'ho-m1', 'ana@example.com', 6),
    ]);
    expect(s.handoff?.followUp).toEqual({
      dueAt: DUE,
      contact: 'ana@example.com',
      createdAt: t(4),
    });
  });

  it('ignores a follow-up or an address for another handoff', () => {
    const s = waiting();
    const other = evolve(s, created('f-other', 'ho-other', 'x@example.com', 4));
    expect(other.handoff).toEqual(s.handoff);
    expect(other.handoff?.followUp).toBeUndefined();
    const withFollowUp = evolve(s, created('f1', 'ho-m1', '', 4));
    const otherAddress = evolve(
      withFollowUp,
      contactAdded('c-other', 'ho-other', 'x@example.com', 5),
    );
    expect(otherAddress.handoff).toEqual(withFollowUp.handoff);
    expect(otherAddress.handoff?.followUp?.contact).toBe('');
  });

  it('ignores a follow-up before any handoff', () => {
    const s = fold(C, [received('m1', 'hello', 1)]);
    expect(evolve(s, created('f1', 'ho-m1', 'x@example.com', 2)).handoff).toBeUndefined();
    expect(evolve(s, contactAdded('c1', 'ho-m1', 'x@example.com', 2)).handoff).toBeUndefined();
  });

  it('keeps the address when the follow-up is delivered again or written again later', () => {
    const withContact = fold(C, [
      ...[received('m1', 'I want a human', 1), handoff('m1', 2), queued('m1', 3)],
      created('f1', 'ho-m1', '', 4),
      contactAdded('c1', 'ho-m1', 'ana@example.com', 5),
    ]);
    // The same record again: applied once.
    expect(evolve(withContact, created('f1', 'ho-m1', '', 4))).toBe(withContact);
    // A follow-up written again without an address (e.g. by another replica) does not erase it.
    const again = evolve(withContact, created('f2', 'ho-m1', '', 6));
    expect(again.handoff?.followUp?.contact).toBe('ana@example.com');
    expect(again.handoff?.followUp?.dueAt).toBe(DUE);
  });

  it('is the same state when the address is applied before the follow-up it completes', () => {
    const events = [
      received('m1', 'I want a human', 1),
      handoff('m1', 2),
      queued('m1', 3),
      created('f1', 'ho-m1', '', 4),
      contactAdded('c1', 'ho-m1', 'ana@example.com', 5),
    ];
    const swapped = fold(C, [...events.slice(0, 3), events[4], events[3]]);
    expect(visible(swapped)).toEqual(visible(fold(C, events)));
    expect(swapped.handoff?.followUp).toEqual({
      dueAt: DUE,
      contact: 'ana@example.com',
      createdAt: t(4),
    });
  });

  it('starts without a follow-up when the conversation is handed off again', () => {
    const s = fold(C, [
      ...[received('m1', 'I want a human', 1), handoff('m1', 2), queued('m1', 3)],
      created('f1', 'ho-m1', 'ana@example.com', 4),
      received('m2', 'still there?', 5),
      handoff('m2', 6),
    ]);
    expect(s.handoff?.handoffId).toBe('ho-m2');
    expect(s.handoff?.followUp).toBeUndefined();
  });

  it('survives a JSON round trip (snapshots)', () => {
    const s = evolve(waiting(), created('f1', 'ho-m1', '', 4));
    const restored = JSON.parse(JSON.stringify(s));
    const next = contactAdded('c1', 'ho-m1', 'ana@example.com', 5);
    expect(evolve(restored, next)).toEqual(evolve(s, next));
  });
});

describe('conversation evolve: the desk (accept, decline, replies, handback)', () => {
  const ev = <K extends Parameters<typeof conversationEvent>[2]>(
    id: string,
    kind: K,
    value: Parameters<typeof conversationEvent<K>>[3],
    n: number,
  ) => conversationEvent(C, id, kind, value, t(n));
  const assignedTo = (agentId: string, agentName: string, n: number) =>
    ev(
      `as-${agentId}-${n}`,
      'agentAssigned',
      { handoffId: 'ho-m1', agentId, agentName, team: 'Billing' },
      n,
    );
  const held = () =>
    fold(C, [received('m1', 'I want a person', 1), handoff('m1', 2), assignedTo('ag-1', 'Ada', 3)]);

  it('opens a human stretch on assignment and records the acceptance', () => {
    const s = evolve(
      held(),
      ev('acc', 'agentAccepted', { handoffId: 'ho-m1', agentId: 'ag-1', actionId: 'x' }, 4),
    );
    expect(s.status).toBe('with_human');
    expect(s.handoff?.agent).toMatchObject({ agentId: 'ag-1', assignedAt: t(3), acceptedAt: t(4) });
    expect(s.humanStretches).toEqual([
      {
        handoffId: 'ho-m1',
        agentId: 'ag-1',
        agentName: 'Ada',
        from: t(3),
        to: '',
        ended: '',
        note: '',
      },
    ]);
    expect(isBotActive(s)).toBe(false);
  });

  it('ignores an acceptance by someone who does not hold the handoff', () => {
    const s = evolve(
      held(),
      ev('acc', 'agentAccepted', { handoffId: 'ho-m1', agentId: 'ag-2', actionId: 'x' }, 4),
    );
    expect(s.handoff?.agent?.acceptedAt).toBeUndefined();
  });

  it.each([
    [
      'agentDeclined',
      { handoffId: 'ho-m1', agentId: 'ag-1', reason: 'not my area', actionId: 'x' },
      'declined',
    ],
    ['acceptTimedOut', { handoffId: 'ho-m1', agentId: 'ag-1', waitedSeconds: 60 }, 'timeout'],
  ] as const)(
    'puts the handoff back to waiting on %s, remembering who let it go',
    (kind, value, reason) => {
      const s = evolve(held(), ev('d', kind, value as never, 5));
      expect(s.status).toBe('awaiting_human');
      expect(s.handoff?.agent).toBeUndefined();
      expect(s.handoff?.passedBy).toEqual([
        { agentId: 'ag-1', reason, note: reason === 'declined' ? 'not my area' : '', at: t(5) },
      ]);
      expect(s.humanStretches).toEqual([]);
      const next = evolve(s, assignedTo('ag-2', 'Bo', 6));
      expect(next.status).toBe('with_human');
      expect(next.handoff?.agent?.agentId).toBe('ag-2');
      expect(next.handoff?.passedBy).toHaveLength(1);
      expect(next.humanStretches?.map((x) => [x.agentId, x.from])).toEqual([['ag-2', t(6)]]);
    },
  );

  it('ignores a decline from an agent who no longer holds the handoff', () => {
    const s = evolve(
      held(),
      ev(
        'd',
        'agentDeclined',
        { handoffId: 'ho-m1', agentId: 'ag-9', reason: '', actionId: 'x' },
        5,
      ),
    );
    expect(s.status).toBe('with_human');
    expect(s.handoff?.agent?.agentId).toBe('ag-1');
  });

  it("puts the agent's replies in the transcript with their name", () => {
    const s = evolve(
      held(),
      ev(
        'r',
        'agentReplied',
        {
          handoffId: 'ho-m1',
          agentId: 'ag-1',
          agentName: 'Ada',
          messageId: 'om-1',
          text: 'Refund sent.',
          draftReplyId: '',
          draftEdited: false,
        },
        6,
      ),
    );
    expect(s.transcript.at(-1)).toEqual({
      speaker: 'agent',
      text: 'Refund sent.',
      at: t(6),
      author: 'Ada',
    });
  });

  it('hands back to the AI: the bot answers again and the stretch is closed with the note', () => {
    const s = fold(
      C,
      [
        ev(
          'b',
          'handedBack',
          { handoffId: 'ho-m1', agentId: 'ag-1', agentName: 'Ada', note: 'refund issued' },
          7,
        ),
      ],
      held(),
    );
    expect(s.status).toBe('ai_handling');
    expect(isBotActive(s)).toBe(true);
    expect(s.handoff?.handedBackAt).toBe(t(7));
    expect(s.humanStretches).toEqual([
      {
        handoffId: 'ho-m1',
        agentId: 'ag-1',
        agentName: 'Ada',
        from: t(3),
        to: t(7),
        ended: 'handed_back',
        note: 'refund issued',
      },
    ]);
    expect(s.transcript.at(-1)?.text).toContain(
      'handed the conversation back to the AI: refund issued',
    );
    // A late assignment of the same handoff (a replica's retry) does not take it from the AI again.
    const late = evolve(s, assignedTo('ag-2', 'Bo', 8));
    expect(late.status).toBe('ai_handling');
  });

  it('closes the stretch when a person resolves, and records marks and article drafts', () => {
    const s = fold(
      C,
      [
        ev(
          'f',
          'falseEscalationMarked',
          { handoffId: 'ho-m1', agentId: 'ag-1', note: 'FAQ covers it' },
          6,
        ),
        ev(
          'p',
          'articleProposed',
          {
            handoffId: 'ho-m1',
            agentId: 'ag-1',
            draftId: 'd-1',
            title: 'Refunds',
            body: 'How…',
            tags: [],
          },
          7,
        ),
        conversationEvent(
          C,
          'res',
          'conversationResolved',
          { resolution: Resolution.HUMAN, resolvedBy: 'ag-1', note: '' },
          t(8),
        ),
      ],
      held(),
    );
    expect(s.status).toBe('resolved_by_human');
    expect(s.handoff?.falseEscalation).toEqual({
      agentId: 'ag-1',
      note: 'FAQ covers it',
      at: t(6),
    });
    expect(s.handoff?.articleDrafts).toEqual([
      { draftId: 'd-1', title: 'Refunds', agentId: 'ag-1', at: t(7) },
    ]);
    expect(s.humanStretches?.[0]).toMatchObject({ to: t(8), ended: 'resolved' });
  });

  it('is the same state from JSON (snapshots) and ignores a repeated event', () => {
    const s = held();
    const back = JSON.parse(JSON.stringify(s));
    const e = ev('acc', 'agentAccepted', { handoffId: 'ho-m1', agentId: 'ag-1', actionId: 'x' }, 4);
    expect(evolve(evolve(back, e), e)).toEqual(evolve(s, e));
  });
});

describe('conversation evolve: an accepted handoff stays accepted', () => {
  it('ignores a timeout or a decline that arrives after the agent accepted', () => {
    const at = (n: number) => `2026-01-01T00:01:${String(n).padStart(2, '0')}Z`;
    const s = fold(C, [
      received('m1', 'a person please', 1),
      handoff('m1', 2),
      assigned('m1', 3),
      conversationEvent(
        C,
        'acc',
        'agentAccepted',
        { handoffId: 'ho-m1', agentId: 'ag-1', actionId: 'x' },
        at(4),
      ),
      conversationEvent(
        C,
        'to',
        'acceptTimedOut',
        { handoffId: 'ho-m1', agentId: 'ag-1', waitedSeconds: 60 },
        at(5),
      ),
      conversationEvent(
        C,
        'dec',
        'agentDeclined',
        { handoffId: 'ho-m1', agentId: 'ag-1', reason: '', actionId: 'y' },
        at(6),
      ),
    ]);
    expect(s.status).toBe('with_human');
    expect(s.handoff?.agent?.acceptedAt).toBe(at(4));
    expect(s.handoff?.passedBy).toBeUndefined();
  });
});

describe('conversation evolve: the end of a conversation (resolution, CSAT)', () => {
  const resolved = (id: string, n: number, assumed = false) =>
    conversationEvent(
      C,
      `res-${id}`,
      'conversationResolved',
      {
        resolution: Resolution.AI,
        resolvedBy: assumed ? 'quiet_window' : 'customer',
        note: '',
        assumed,
      },
      t(n),
    );
  const requested = (requestId: string, n: number) =>
    conversationEvent(C, `req-${requestId}`, 'csatRequested', { requestId, channel: 'web' }, t(n));
  const rated = (id: string, requestId: string, score: number, n: number, comment = '') =>
    conversationEvent(C, `rated-${id}`, 'csatRated', { requestId, score, comment }, t(n));

  it('records how the conversation was resolved, assumed or confirmed', () => {
    const s = fold(C, [received('m1', 'hi', 1), released('m1', 2), resolved('1', 3, true)]);
    expect(s.status).toBe('resolved_by_ai');
    expect(s.lastResolution).toEqual({
      resolution: 'ai',
      resolvedBy: 'quiet_window',
      assumed: true,
      at: t(3),
    });
  });

  it('keeps the request and the latest rating of it; a repeated request or rating changes nothing', () => {
    const s = fold(C, [
      received('m1', 'hi', 1),
      released('m1', 2),
      resolved('1', 3),
      requested('q1', 3),
      requested('q1', 4),
      rated('a', 'q1', 2, 5, 'slow'),
      rated('b', 'q1', 5, 6, 'sorted after all'),
      rated('a', 'q1', 2, 5, 'slow'),
    ]);
    const rating = { requestId: 'q1', score: 5, comment: 'sorted after all', ratedAt: t(6) };
    expect(s.csat).toEqual(rating);
    expect(s.csatRequests).toEqual([
      { requestId: 'q1', channel: 'web', requestedAt: t(3), rating },
    ]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('keeps the later rating whichever order two ratings are applied in', () => {
    const before = fold(C, [received('m1', 'hi', 1), resolved('1', 2), requested('q1', 2)]);
    const a = fold(C, [rated('a', 'q1', 2, 5), rated('b', 'q1', 4, 6)], before);
    const b = fold(C, [rated('b', 'q1', 4, 6), rated('a', 'q1', 2, 5)], before);
    expect(a.csat?.score).toBe(4);
    expect(b.csat).toEqual(a.csat);
    expect(b.csatRequests).toEqual(a.csatRequests);
  });

  it('neither a request nor a rating changes the status or the transcript', () => {
    const before = fold(C, [received('m1', 'hi', 1), released('m1', 2), resolved('1', 3)]);
    const after = fold(C, [requested('q1', 3), rated('a', 'q1', 4, 5)], before);
    expect(after.status).toBe(before.status);
    expect(after.transcript).toEqual(before.transcript);
    expect(after.resolutionCount).toBe(1);
  });
});
