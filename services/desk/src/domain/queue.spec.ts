import { Priority, ReplyKind, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import {
  articleDraftFrom,
  draftFor,
  laneOf,
  queueItem,
  sortQueue,
  type AssignmentInfo,
  type QueueItem,
} from './queue';

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;

const received = (n: number, text = 'I want to talk to a person', c = C): ConversationEvent =>
  conversationEvent(
    c,
    `e-m${n}`,
    'customerMessageReceived',
    {
      messageId: `m${n}`,
      channel: 'web',
      externalConversationId: `ext-${c}`,
      customerId: `cust-${c}`,
      text,
      locale: 'en',
      pageUrl: '',
      idempotencyKey: `m${n}`,
      accountId: 'acct-1',
      sentAt: '',
    },
    t(n),
  );
const handoff = (
  id: string,
  n: number,
  { messageId = 'm1', priority = Priority.NORMAL, c = C } = {},
): ConversationEvent =>
  conversationEvent(
    c,
    `h-${id}`,
    'handoffRequested',
    {
      handoffId: id,
      messageId,
      triggers: [
        { rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 },
        { rule: 'negative_sentiment', detail: 'angry', value: -0.8, threshold: -0.5 },
      ],
      priority,
      requiredSkills: ['billing'],
      language: 'de',
      policyVersion: 'v1',
      briefing: { summary: 'Wants a refund', summaryGenerator: 'extractive' },
    },
    t(n),
  );
const assigned = (handoffId: string, agentId: string, n: number, c = C): ConversationEvent =>
  conversationEvent(
    c,
    `a-${handoffId}-${agentId}`,
    'agentAssigned',
    { handoffId, agentId, agentName: `Agent ${agentId}`, team: 'Billing' },
    t(n),
  );
const accepted = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `acc-${handoffId}`,
    'agentAccepted',
    { handoffId, agentId, actionId: `act-${n}` },
    t(n),
  );
const proposed = (
  messageId: string,
  n: number,
  { text = 'You can get a refund within 30 days.', kind = ReplyKind.ANSWER } = {},
): ConversationEvent =>
  conversationEvent(
    C,
    `p-${messageId}`,
    'aiReplyProposed',
    {
      messageId,
      replyId: `r-${messageId}`,
      text,
      confidence: 0.42,
      kind,
      generator: 'extractive',
      citations: [{ articleId: 'kb-1', title: 'Refunds', snippet: 'within 30 days', score: 0.9 }],
    },
    t(n),
  );
const agentReplied = (handoffId: string, agentId: string, n: number, text: string) =>
  conversationEvent(
    C,
    `rep-${n}`,
    'agentReplied',
    { handoffId, agentId, agentName: `Agent ${agentId}`, messageId: `out-${n}`, text },
    t(n),
  );
const handedBack = (handoffId: string, agentId: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `hb-${handoffId}`,
    'handedBack',
    { handoffId, agentId, agentName: `Agent ${agentId}`, note: '' },
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

const given = (...events: ConversationEvent[]): ConversationState => fold(C, events);
const waiting = (...more: ConversationEvent[]) => given(received(1), handoff('ho-1', 2), ...more);
const offeredTo = (agentId: string, ...more: ConversationEvent[]) =>
  waiting(assigned('ho-1', agentId, 3), ...more);

describe('laneOf: where a conversation stands for the agent looking at the desk', () => {
  it('is waiting while nobody is assigned', () => {
    expect(laneOf(waiting(), 'ag-1')).toBe('waiting');
  });

  it('is offered to the assigned agent until they accept, then theirs', () => {
    expect(laneOf(offeredTo('ag-1'), 'ag-1')).toBe('offered');
    expect(laneOf(offeredTo('ag-1', accepted('ho-1', 'ag-1', 4)), 'ag-1')).toBe('mine');
  });

  it("is a colleague's for every other agent", () => {
    expect(laneOf(offeredTo('ag-1'), 'ag-2')).toBe('colleague');
    expect(laneOf(offeredTo('ag-1', accepted('ho-1', 'ag-1', 4)), 'ag-2')).toBe('colleague');
  });
});

describe('queueItem: the desk line of a conversation', () => {
  const assignment = (fields: Partial<AssignmentInfo> = {}): AssignmentInfo => ({
    agentId: 'ag-1',
    status: 'assigned',
    acceptBy: '2026-01-01T00:02:00Z',
    ...fields,
  });

  it('describes a conversation offered to the agent, with the deadline to accept', () => {
    const item = queueItem(offeredTo('ag-1'), 'ag-1', assignment());
    expect(item).toEqual<QueueItem>({
      conversationId: C,
      handoffId: 'ho-1',
      lane: 'offered',
      priority: Priority.NORMAL,
      requestedAt: t(2),
      summary: 'Wants a refund',
      rules: ['explicit_human_request', 'negative_sentiment'],
      requiredSkills: ['billing'],
      language: 'de',
      customerId: `cust-${C}`,
      accountId: 'acct-1',
      channel: 'web',
      agent: { agentId: 'ag-1', agentName: 'Agent ag-1', team: 'Billing' },
      acceptBy: '2026-01-01T00:02:00Z',
      last: { speaker: 'system', text: 'Agent ag-1 (Billing) joined', at: t(3) },
    });
  });

  it('has no deadline without an assignment, once accepted, or for an assignment of someone else', () => {
    expect(queueItem(offeredTo('ag-1'), 'ag-1')?.acceptBy).toBe('');
    expect(queueItem(offeredTo('ag-1'), 'ag-1', assignment({ status: 'accepted' }))?.acceptBy).toBe(
      '',
    );
    expect(queueItem(offeredTo('ag-1'), 'ag-1', assignment({ status: 'released' }))?.acceptBy).toBe(
      '',
    );
    // the router's record is about an earlier assignee
    expect(queueItem(offeredTo('ag-1'), 'ag-1', assignment({ agentId: 'ag-0' }))?.acceptBy).toBe(
      '',
    );
  });

  it('shows the acceptance of an accepted conversation', () => {
    const item = queueItem(offeredTo('ag-1', accepted('ho-1', 'ag-1', 4)), 'ag-1');
    expect(item?.lane).toBe('mine');
    expect(item?.agent).toEqual({
      agentId: 'ag-1',
      agentName: 'Agent ag-1',
      team: 'Billing',
      acceptedAt: t(4),
    });
  });

  it('has no agent while the handoff waits, and its last line is the customer', () => {
    const item = queueItem(waiting(), 'ag-1');
    expect(item?.lane).toBe('waiting');
    expect(item?.agent).toBeUndefined();
    expect(item?.last).toEqual({
      speaker: 'customer',
      text: 'I want to talk to a person',
      at: t(1),
    });
  });

  it('leaves out conversations without a handoff, handed back or resolved', () => {
    expect(queueItem(given(received(1)), 'ag-1')).toBeUndefined();
    expect(queueItem(offeredTo('ag-1', handedBack('ho-1', 'ag-1', 4)), 'ag-1')).toBeUndefined();
    expect(queueItem(offeredTo('ag-1', resolved(4)), 'ag-1')).toBeUndefined();
    // nor when the customer wrote again after the resolution
    expect(queueItem(offeredTo('ag-1', resolved(4), received(5)), 'ag-1')).toBeUndefined();
  });
});

describe('sortQueue: offered first, then mine, waiting and colleagues; by priority, then age', () => {
  const item = (id: string, lane: QueueItem['lane'], priority: number, n: number): QueueItem => ({
    conversationId: id,
    handoffId: `ho-${id}`,
    lane,
    priority,
    requestedAt: t(n),
    summary: '',
    rules: [],
    requiredSkills: [],
    language: 'en',
    customerId: '',
    accountId: '',
    channel: 'web',
    acceptBy: '',
  });

  it('orders lanes, then higher priority, then the older request first', () => {
    const items = [
      item('colleague', 'colleague', Priority.URGENT, 1),
      item('waiting-old-normal', 'waiting', Priority.NORMAL, 1),
      item('waiting-new-high', 'waiting', Priority.HIGH, 9),
      item('waiting-old-high', 'waiting', Priority.HIGH, 3),
      item('mine', 'mine', Priority.LOW, 5),
      item('offered', 'offered', Priority.LOW, 8),
    ];
    expect(sortQueue(items).map((i) => i.conversationId)).toEqual([
      'offered',
      'mine',
      'waiting-old-high',
      'waiting-new-high',
      'waiting-old-normal',
      'colleague',
    ]);
    // and leaves the given list alone
    expect(items[0].conversationId).toBe('colleague');
  });
});

describe("draftFor: the AI's suggestion for the agent's next reply", () => {
  it("offers the AI's proposal for the customer's latest message", () => {
    const state = offeredTo('ag-1', received(4, 'Where is my refund?'), proposed('m4', 5));
    expect(draftFor(state)).toEqual({
      messageId: 'm4',
      replyId: 'r-m4',
      text: 'You can get a refund within 30 days.',
      confidence: 0.42,
      generator: 'extractive',
      citations: [{ articleId: 'kb-1', title: 'Refunds' }],
    });
  });

  it('offers none once the agent answered that message', () => {
    const state = offeredTo(
      'ag-1',
      accepted('ho-1', 'ag-1', 4),
      received(5, 'Where is my refund?'),
      proposed('m5', 6),
      agentReplied('ho-1', 'ag-1', 7, 'On its way'),
    );
    expect(draftFor(state)).toBeUndefined();
  });

  it('offers the new proposal when the customer wrote after the agent answered', () => {
    const state = offeredTo(
      'ag-1',
      received(4, 'Where is my refund?'),
      agentReplied('ho-1', 'ag-1', 5, 'On its way'),
      received(6, 'And the invoice?'),
      proposed('m6', 7, { text: 'Invoices are under Billing.' }),
    );
    expect(draftFor(state)?.text).toBe('Invoices are under Billing.');
  });

  it('offers none for a no_answer proposal, a blank one, or a message without a proposal', () => {
    expect(
      draftFor(offeredTo('ag-1', received(4), proposed('m4', 5, { kind: ReplyKind.NO_ANSWER }))),
    ).toBeUndefined();
    expect(draftFor(offeredTo('ag-1', received(4), proposed('m4', 5, { text: '  ' })))).toBe(
      undefined,
    );
    // the proposal is for an earlier message, not the latest
    expect(draftFor(offeredTo('ag-1', proposed('m1', 3), received(4)))).toBeUndefined();
  });
});

describe('articleDraftFrom: a knowledge-base draft from what the agent wrote', () => {
  it("titles it with the handoff message's first sentence and fills it with the agent's replies", () => {
    const state = given(
      received(1, 'Hello'),
      received(2, 'My refund has not arrived. I ordered in May! Can you help?'),
      handoff('ho-1', 3, { messageId: 'm2' }),
      assigned('ho-1', 'ag-1', 4),
      agentReplied('ho-1', 'ag-1', 5, 'Refunds take 5 days.'),
      received(6, 'Thanks'),
      agentReplied('ho-1', 'ag-1', 7, 'You can track it under Orders.'),
      resolved(8),
    );
    expect(articleDraftFrom(state)).toEqual({
      title: 'My refund has not arrived.',
      body: 'Refunds take 5 days.\n\nYou can track it under Orders.',
    });
  });

  it("leaves out what an agent wrote before this handoff's assignment", () => {
    const state = given(
      received(1, 'Question one?'),
      handoff('ho-1', 2),
      assigned('ho-1', 'ag-1', 3),
      agentReplied('ho-1', 'ag-1', 4, 'Old answer'),
      handedBack('ho-1', 'ag-1', 5),
      received(6, 'Question two?'),
      handoff('ho-2', 7, { messageId: 'm6' }),
      assigned('ho-2', 'ag-2', 8),
      conversationEvent(
        C,
        'rep-9',
        'agentReplied',
        { handoffId: 'ho-2', agentId: 'ag-2', agentName: 'B', messageId: 'o9', text: 'New answer' },
        t(9),
      ),
    );
    expect(articleDraftFrom(state)).toEqual({ title: 'Question two?', body: 'New answer' });
  });

  it('shortens a long first sentence to 120 characters', () => {
    const long = `${'a'.repeat(200)} and more`;
    const { title, body } = articleDraftFrom(given(received(1, long), handoff('ho-1', 2)));
    expect(title).toHaveLength(118);
    expect(title.endsWith('…')).toBe(true);
    expect(body).toBe('');
  });

  it('is empty for a conversation without messages', () => {
    expect(articleDraftFrom(given())).toEqual({ title: '', body: '' });
  });
});
