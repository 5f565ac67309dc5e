import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import type { ConversationState } from '@support/conversation';
import { actionCase, actionInputSchema, refusal, type ActionInput } from './actions';

/** The sentence the desk answers a refused action with (a 409), or undefined. */
const whyNot = (state: ConversationState, agentId: string, input: ActionInput) =>
  refusal(state, agentId, input)?.message;

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;

const received = (n: number): ConversationEvent =>
  conversationEvent(
    C,
    `e-m${n}`,
    'customerMessageReceived',
    {
      messageId: `m${n}`,
      channel: 'web',
      externalConversationId: 'ext-1',
      customerId: 'cust-1',
      text: 'I want to talk to a person',
      locale: 'en',
      pageUrl: '',
      idempotencyKey: `m${n}`,
      accountId: 'acct-1',
      sentAt: '',
    },
    t(n),
  );
const handoff = (id: string, n: number, messageId = 'm1'): ConversationEvent =>
  conversationEvent(
    C,
    `h-${id}`,
    'handoffRequested',
    {
      handoffId: id,
      messageId,
      triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
      priority: Priority.NORMAL,
      requiredSkills: [],
      language: 'en',
      policyVersion: 'v1',
    },
    t(n),
  );
const assigned = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `a-${handoffId}-${agentId}`,
    'agentAssigned',
    { handoffId, agentId, agentName: `Agent ${agentId}`, team: 'Support' },
    t(n),
  );
const accepted = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `acc-${handoffId}-${agentId}`,
    'agentAccepted',
    { handoffId, agentId, actionId: `act-acc-${n}` },
    t(n),
  );
const declined = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `dec-${handoffId}-${agentId}`,
    'agentDeclined',
    { handoffId, agentId, reason: 'busy', actionId: `act-dec-${n}` },
    t(n),
  );
const handedBack = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `hb-${handoffId}`,
    'handedBack',
    { handoffId, agentId, agentName: `Agent ${agentId}`, note: 'done' },
    t(n),
  );
const resolved = (n: number): ConversationEvent =>
  conversationEvent(
    C,
    `res-${n}`,
    'conversationResolved',
    { resolution: Resolution.HUMAN, resolvedBy: 'agent', note: '' },
    t(n),
  );

/** Given: the conversation these events fold to. */
const given = (...events: ConversationEvent[]): ConversationState => fold(C, events);
/** A conversation whose handoff ho-1 is assigned to ag-1 (not accepted yet). */
const offeredTo = (agentId = 'ag-1', ...more: ConversationEvent[]) =>
  given(received(1), handoff('ho-1', 2), assigned('ho-1', agentId, 3), ...more);
/** ... and accepted by ag-1. */
const heldBy = (...more: ConversationEvent[]) =>
  offeredTo('ag-1', accepted('ho-1', 'ag-1', 4), ...more);

/** Parses an action as the HTTP API would (defaults filled in). */
const input = (body: Record<string, unknown>): ActionInput => actionInputSchema.parse(body);
const accept = (handoffId = 'ho-1') => input({ type: 'accept', handoffId });
const decline = () => input({ type: 'decline', handoffId: 'ho-1', reason: 'busy' });
const reply = (handoffId = 'ho-1') => input({ type: 'reply', handoffId, text: 'Hello' });
const handBack = () => input({ type: 'hand_back', handoffId: 'ho-1', note: 'done' });
const resolve = () => input({ type: 'resolve', handoffId: 'ho-1' });
const mark = () => input({ type: 'mark_false_escalation', handoffId: 'ho-1', note: 'AI knew' });
const propose = () =>
  input({ type: 'propose_article', handoffId: 'ho-1', title: 'Refunds', body: 'How to refund' });
const everyAction = () => [accept(), decline(), reply(), handBack(), resolve(), mark(), propose()];

describe('whyNot: whether an agent may act on a conversation, as the desk sees it', () => {
  it('refuses every action on a conversation without a handoff', () => {
    const state = given(received(1));
    for (const action of everyAction())
      expect(whyNot(state, 'ag-1', action)).toBe('the conversation has no handoff');
  });

  it('refuses an action naming a handoff that is not the current one', () => {
    // Given a second handoff after the first was handed back
    const state = heldBy(handedBack('ho-1', 'ag-1', 5), received(6), handoff('ho-2', 7, 'm6'));
    // When ag-1 acts on the old handoff, or anyone on an unknown one
    // Then the desk says the handoff is not current
    expect(whyNot(state, 'ag-1', reply('ho-1'))).toBe('the handoff is no longer current');
    expect(whyNot(state, 'ag-1', accept('ho-x'))).toBe('the handoff is no longer current');
    expect(whyNot(state, 'ag-1', { ...mark(), handoffId: 'ho-1' })).toBe(
      'the handoff is no longer current',
    );
  });

  it('lets only the agent the handoff is assigned to accept, reply, decline, hand back or resolve', () => {
    const state = offeredTo('ag-1');
    for (const action of [accept(), decline(), reply(), handBack(), resolve()]) {
      expect(whyNot(state, 'ag-1', action)).toBeUndefined();
      expect(whyNot(state, 'ag-2', action)).toBe('the conversation is not assigned to you');
    }
  });

  it('refuses the holder actions while the handoff waits for an agent', () => {
    const state = given(received(1), handoff('ho-1', 2));
    for (const action of [accept(), reply(), decline(), handBack(), resolve()])
      expect(whyNot(state, 'ag-1', action)).toBe('the conversation is not assigned to you');
  });

  it('refuses an agent who declined: the handoff is no longer theirs', () => {
    const state = offeredTo('ag-1', declined('ho-1', 'ag-1', 4));
    expect(whyNot(state, 'ag-1', accept())).toBe('the conversation is not assigned to you');
    expect(whyNot(state, 'ag-1', reply())).toBe('the conversation is not assigned to you');
    // and a decliner never held it, so cannot mark it either
    expect(whyNot(state, 'ag-1', mark())).toBe('you never held this conversation');
  });

  it('refuses accepting twice, and declining after accepting', () => {
    const state = heldBy();
    expect(whyNot(state, 'ag-1', accept())).toBe('you already accepted it');
    expect(whyNot(state, 'ag-1', decline())).toBe(
      'you accepted it already: hand it back or resolve it instead',
    );
    // while replying, handing back and resolving are what the holder does next
    expect(whyNot(state, 'ag-1', reply())).toBeUndefined();
    expect(whyNot(state, 'ag-1', handBack())).toBeUndefined();
    expect(whyNot(state, 'ag-1', resolve())).toBeUndefined();
  });

  it('refuses every holder action once the conversation is resolved', () => {
    const state = heldBy(resolved(5));
    for (const action of [accept(), decline(), reply(), handBack(), resolve()])
      expect(whyNot(state, 'ag-1', action)).toBe('the conversation is resolved');
  });

  it('refuses every holder action once the conversation was handed back to the AI', () => {
    const state = heldBy(handedBack('ho-1', 'ag-1', 5));
    for (const action of [accept(), decline(), reply(), handBack(), resolve()])
      expect(whyNot(state, 'ag-1', action)).toBe('the conversation was handed back to the AI');
  });

  it('refuses holder actions on a resolved conversation the customer reopened (the handoff is over)', () => {
    // Given the agent resolved it, and then the customer wrote again
    const state = heldBy(resolved(5), received(6));
    expect(state.status).toBe('reopened');
    // Then the old handoff's agent can no longer reply to it (ingest would refuse it too)
    for (const action of [reply(), handBack(), resolve()])
      expect(whyNot(state, 'ag-1', action)).toBe('the conversation is not assigned to you');
  });

  it('lets the holder mark a false escalation and propose an article, also after the resolution', () => {
    expect(whyNot(heldBy(), 'ag-1', mark())).toBeUndefined();
    expect(whyNot(heldBy(), 'ag-1', propose())).toBeUndefined();
    const done = heldBy(resolved(5));
    expect(whyNot(done, 'ag-1', mark())).toBeUndefined();
    expect(whyNot(done, 'ag-1', propose())).toBeUndefined();
    const back = heldBy(handedBack('ho-1', 'ag-1', 5));
    expect(whyNot(back, 'ag-1', mark())).toBeUndefined();
    expect(whyNot(back, 'ag-1', propose())).toBeUndefined();
  });

  it('lets a past holder mark and propose when the handoff names another agent since', () => {
    // Given ag-1 held the handoff and handed it back, then a late assignment of it to ag-2 arrived,
    // and the customer's next conversation turn was resolved
    const state = heldBy(handedBack('ho-1', 'ag-1', 5), assigned('ho-1', 'ag-2', 6), resolved(7));
    expect(state.handoff?.agent?.agentId).toBe('ag-2');
    // Then ag-1 (a past holder, by their stretch) may still mark or propose, but not reply
    expect(whyNot(state, 'ag-1', mark())).toBeUndefined();
    expect(whyNot(state, 'ag-1', propose())).toBeUndefined();
    expect(whyNot(state, 'ag-1', reply())).toBe('the conversation is resolved');
  });

  it('refuses marking and proposing to an agent who never held the conversation', () => {
    for (const state of [heldBy(), heldBy(resolved(5))]) {
      expect(whyNot(state, 'ag-2', mark())).toBe('you never held this conversation');
      expect(whyNot(state, 'ag-2', propose())).toBe('you never held this conversation');
    }
  });
});

/** The fields a 400 would name for this body. */
const fieldsOf = (body: unknown): string[] => {
  const parsed = actionInputSchema.safeParse(body);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(body)} to be refused`);
  return parsed.error.issues.map((i) => i.path.join('.'));
};

describe('actionInputSchema: the actions the desk API takes', () => {
  it('names `type` for a missing or unknown action type, listing the known ones', () => {
    expect(fieldsOf({ handoffId: 'ho-1' })).toEqual(['type']);
    expect(fieldsOf({ type: 'escalate', handoffId: 'ho-1' })).toEqual(['type']);
    const parsed = actionInputSchema.safeParse({ type: 'escalate', handoffId: 'ho-1' });
    expect(parsed.error?.issues[0]?.message).toContain('accept, decline, reply');
  });

  it('names `handoffId` when it is missing or empty', () => {
    expect(fieldsOf({ type: 'accept' })).toEqual(['handoffId']);
    expect(fieldsOf({ type: 'resolve', handoffId: '' })).toEqual(['handoffId']);
  });

  it('names `text` for an empty or blank reply, and one too long', () => {
    expect(fieldsOf({ type: 'reply', handoffId: 'ho-1', text: '' })).toEqual(['text']);
    expect(fieldsOf({ type: 'reply', handoffId: 'ho-1', text: '   ' })).toEqual(['text']);
    expect(fieldsOf({ type: 'reply', handoffId: 'ho-1' })).toEqual(['text']);
    expect(fieldsOf({ type: 'reply', handoffId: 'ho-1', text: 'x'.repeat(5001) })).toEqual([
      'text',
    ]);
  });

  it('names the title, body and tags of an article proposal', () => {
    expect(fieldsOf({ type: 'propose_article', handoffId: 'ho-1', title: ' ', body: 'b' })).toEqual(
      ['title'],
    );
    expect(fieldsOf({ type: 'propose_article', handoffId: 'ho-1', title: 't', body: '' })).toEqual([
      'body',
    ]);
    expect(
      fieldsOf({
        type: 'propose_article',
        handoffId: 'ho-1',
        title: 't',
        body: 'b',
        tags: ['ok', ''],
      }),
    ).toEqual(['tags.1']);
  });

  it('names a note that is too long, and a draft flag that is not a boolean', () => {
    expect(fieldsOf({ type: 'hand_back', handoffId: 'ho-1', note: 'x'.repeat(2001) })).toEqual([
      'note',
    ]);
    expect(fieldsOf({ type: 'reply', handoffId: 'ho-1', text: 'Hi', draftEdited: 'yes' })).toEqual([
      'draftEdited',
    ]);
  });

  it('trims text and fills in defaults', () => {
    expect(input({ type: 'reply', handoffId: 'ho-1', text: '  Hello  ' })).toEqual({
      type: 'reply',
      handoffId: 'ho-1',
      text: 'Hello',
      draftReplyId: '',
      draftEdited: false,
    });
    expect(input({ type: 'decline', handoffId: 'ho-1' })).toEqual({
      type: 'decline',
      handoffId: 'ho-1',
      reason: '',
    });
    expect(
      input({ type: 'propose_article', handoffId: 'ho-1', title: ' T ', body: ' B ' }),
    ).toEqual({ type: 'propose_article', handoffId: 'ho-1', title: 'T', body: 'B', tags: [] });
  });
});

describe('actionCase: the DeskAction oneof for each action', () => {
  it('maps every API type to its DeskAction case with its fields', () => {
    expect(actionCase(accept())).toEqual({ case: 'accept', value: {} });
    expect(actionCase(decline())).toEqual({ case: 'decline', value: { reason: 'busy' } });
    expect(
      actionCase(
        input({
          type: 'reply',
          handoffId: 'ho-1',
          text: 'Hi',
          draftReplyId: 'r-1',
          draftEdited: true,
        }),
      ),
    ).toEqual({ case: 'reply', value: { text: 'Hi', draftReplyId: 'r-1', draftEdited: true } });
    expect(actionCase(handBack())).toEqual({ case: 'handBack', value: { note: 'done' } });
    expect(actionCase(resolve())).toEqual({ case: 'resolve', value: { note: '' } });
    expect(actionCase(mark())).toEqual({ case: 'markFalseEscalation', value: { note: 'AI knew' } });
    expect(
      actionCase(
        input({
          type: 'propose_article',
          handoffId: 'ho-1',
          title: 'Refunds',
          body: 'How',
          tags: ['billing'],
        }),
      ),
    ).toEqual({
      case: 'proposeArticle',
      value: { title: 'Refunds', body: 'How', tags: ['billing'] },
    });
  });
});
