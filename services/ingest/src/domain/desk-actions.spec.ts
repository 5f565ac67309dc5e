import {
  create,
  DeskActionSchema,
  OutboundKind,
  Priority,
  Resolution,
  type ConversationEvent,
  type DeskAction,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import {
  decideDeskAction,
  deskDraftId,
  deskEventId,
  deskReplyMessageId,
  validateDeskAction,
  type DeskDecision,
} from './desk-actions';
import { csatRequestIdFor } from './closing';
import { notice } from '@support/notices';

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const NOW = t(50);

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
      accountId: '',
      sentAt: '',
    },
    t(n),
  );
const handoff = (id: string, n: number): ConversationEvent =>
  conversationEvent(
    C,
    `h-${id}`,
    'handoffRequested',
    {
      handoffId: id,
      messageId: 'm1',
      triggers: [],
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
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  id: string,
  kind: K,
  value: Parameters<typeof conversationEvent<K>>[3],
  n: number,
) => conversationEvent(C, id, kind, value, t(n));

/** Given: the conversation these events fold to. */
const given = (...events: ConversationEvent[]): ConversationState => fold(C, events);
/** A conversation with handoff ho-1 assigned to ag-1. */
const withAgent = (...more: ConversationEvent[]) =>
  given(received(1), handoff('ho-1', 2), assigned('ho-1', 'ag-1', 3), ...more);

type Action = DeskAction['action'];
const action = (
  a: MessageInitShape<typeof DeskActionSchema>['action'],
  fields: Partial<Omit<DeskAction, 'action' | '$typeName'>> = {},
): DeskAction =>
  create(DeskActionSchema, {
    actionId: 'act-1',
    conversationId: C,
    handoffId: 'ho-1',
    agentId: 'ag-1',
    agentName: 'Ada at the desk',
    sentAt: t(40),
    action: a,
    ...fields,
  });
const accept = (fields = {}) => action({ case: 'accept', value: {} }, fields);
const reply = (text: string, fields = {}) =>
  action({ case: 'reply', value: { text, draftReplyId: 'rep-1', draftEdited: true } }, fields);
const of = (kind: NonNullable<Action['case']>, fields = {}): DeskAction => {
  switch (kind) {
    case 'accept':
      return accept(fields);
    case 'decline':
      return action({ case: 'decline', value: { reason: ' busy ' } }, fields);
    case 'reply':
      return reply('Hello', fields);
    case 'handBack':
      return action({ case: 'handBack', value: { note: 'refund done' } }, fields);
    case 'resolve':
      return action({ case: 'resolve', value: { note: 'sorted' } }, fields);
    case 'markFalseEscalation':
      return action({ case: 'markFalseEscalation', value: { note: 'the AI knew' } }, fields);
    case 'proposeArticle':
      return action(
        {
          case: 'proposeArticle',
          value: { title: ' Refunds ', body: ' How to refund ', tags: [' billing '] },
        },
        fields,
      );
  }
};

const appended = (d: DeskDecision) => {
  if (d.kind !== 'append') throw new Error(`expected an event, got ${JSON.stringify(d)}`);
  return d;
};
const rejection = (d: DeskDecision) => {
  if (d.kind !== 'reject') throw new Error(`expected a rejection, got ${d.kind}`);
  return d.rejection;
};

describe('a desk action checked against the conversation', () => {
  describe('well-formed', () => {
    it('given an action with every field, when validated, then there is nothing to say', () => {
      for (const kind of [
        'accept',
        'decline',
        'reply',
        'handBack',
        'resolve',
        'markFalseEscalation',
        'proposeArticle',
      ] as const)
        expect(validateDeskAction(of(kind))).toEqual([]);
    });

    it('given blank ids and no action, when validated, then each field is named with its rule', () => {
      const issues = validateDeskAction(
        create(DeskActionSchema, { actionId: ' ', agentName: 'x'.repeat(201), sentAt: 'today' }),
      );
      expect(issues.map((i) => [i.field, i.rule])).toEqual([
        ['actionId', 'required'],
        ['conversationId', 'required'],
        ['handoffId', 'required'],
        ['agentId', 'required'],
        ['agentName', 'max_length'],
        ['sentAt', 'timestamp'],
        ['action', 'required'],
      ]);
    });

    it.each([
      ['', 'reply.text'],
      ['   \n ', 'reply.text'],
      ['x'.repeat(5001), 'reply.text'],
    ])('given the reply %j, when validated, then reply.text breaks its length rule', (text) => {
      expect(validateDeskAction(reply(text))).toEqual([
        expect.objectContaining({ field: 'reply.text', rule: 'length' }),
      ]);
    });

    it('given a reply of 5000 characters padded with spaces, when validated, then it fits', () => {
      expect(validateDeskAction(reply(`  ${'x'.repeat(5000)}  `))).toEqual([]);
    });

    it('given an article with an empty title and a body too long, when validated, then both are named', () => {
      const a = action({
        case: 'proposeArticle',
        value: { title: ' ', body: 'b'.repeat(20001), tags: [] },
      });
      expect(validateDeskAction(a).map((i) => [i.field, i.rule])).toEqual([
        ['proposeArticle.title', 'length'],
        ['proposeArticle.body', 'length'],
      ]);
    });

    it('given a malformed action, when decided, then it is rejected for good', () => {
      expect(rejection(decideDeskAction(reply(''), withAgent(), NOW))).toEqual(
        expect.objectContaining({ field: 'reply.text', rule: 'length', mayCatchUp: false }),
      );
    });
  });

  describe('accept and decline', () => {
    it('given the handoff assigned to the agent, when they accept, then AgentAccepted is appended under an id from the action', () => {
      const { event, outbound } = appended(decideDeskAction(accept(), withAgent(), NOW));
      expect(event.eventId).toBe(deskEventId('act-1'));
      expect(event.conversationId).toBe(C);
      expect(event.occurredAt).toBe(NOW);
      expect(event.payload).toEqual({
        case: 'agentAccepted',
        value: expect.objectContaining({ handoffId: 'ho-1', agentId: 'ag-1', actionId: 'act-1' }),
      });
      expect(outbound).toBeUndefined();
    });

    it('given the handoff assigned to someone else, when an agent accepts, then agentId breaks the holder rule and the snapshot may be behind', () => {
      expect(rejection(decideDeskAction(accept({ agentId: 'ag-2' }), withAgent(), NOW))).toEqual({
        field: 'agentId',
        rule: 'holder',
        message: 'is not the agent the handoff is assigned to',
        mayCatchUp: true,
      });
    });

    it('given the agent declined the handoff before, when they accept, then it is final: they were passed over', () => {
      const state = withAgent(
        ev(
          'd',
          'agentDeclined',
          { handoffId: 'ho-1', agentId: 'ag-1', reason: '', actionId: 'x' },
          4,
        ),
      );
      expect(rejection(decideDeskAction(accept(), state, NOW))).toEqual(
        expect.objectContaining({ field: 'agentId', rule: 'holder', mayCatchUp: false }),
      );
    });

    it('given the router assigned the handoff again to an agent who had declined it, when they accept, then it fits', () => {
      const state = withAgent(
        ev(
          'd',
          'agentDeclined',
          { handoffId: 'ho-1', agentId: 'ag-1', reason: '', actionId: 'x' },
          4,
        ),
        ev(
          'a2',
          'agentAssigned',
          { handoffId: 'ho-1', agentId: 'ag-1', agentName: 'Agent ag-1', team: 'Support' },
          5,
        ),
      );
      expect(decideDeskAction(accept(), state, NOW).kind).toBe('append');
    });

    it('given a handoff nobody has yet, when an agent accepts, then it may only be that the assignment has not arrived', () => {
      const state = given(received(1), handoff('ho-1', 2));
      expect(rejection(decideDeskAction(accept(), state, NOW))).toEqual(
        expect.objectContaining({ field: 'agentId', rule: 'holder', mayCatchUp: true }),
      );
      // Once the assignment is there, the same action fits.
      expect(
        decideDeskAction(accept(), fold(C, [assigned('ho-1', 'ag-1', 3)], state), NOW).kind,
      ).toBe('append');
    });

    it('given the agent accepted, when they accept or decline again, then the action breaks not_accepted', () => {
      const state = withAgent(
        ev('acc', 'agentAccepted', { handoffId: 'ho-1', agentId: 'ag-1', actionId: 'other' }, 4),
      );
      for (const kind of ['accept', 'decline'] as const)
        expect(rejection(decideDeskAction(of(kind, { actionId: 'act-2' }), state, NOW))).toEqual(
          expect.objectContaining({ field: 'action', rule: 'not_accepted', mayCatchUp: false }),
        );
    });

    it('given the handoff assigned to the agent, when they decline, then AgentDeclined carries the trimmed reason', () => {
      const { event } = appended(decideDeskAction(of('decline'), withAgent(), NOW));
      expect(event.payload).toEqual({
        case: 'agentDeclined',
        value: expect.objectContaining({
          handoffId: 'ho-1',
          agentId: 'ag-1',
          reason: 'busy',
          actionId: 'act-1',
        }),
      });
    });
  });

  describe('reply', () => {
    it('given the agent holds the conversation, when they reply, then AgentReplied and an agent reply to the customer share one message id', () => {
      const { event, outbound } = appended(
        decideDeskAction(reply('  Your refund is on its way.  '), withAgent(), NOW),
      );
      const messageId = deskReplyMessageId('act-1');
      expect(event.payload).toEqual({
        case: 'agentReplied',
        value: expect.objectContaining({
          handoffId: 'ho-1',
          agentId: 'ag-1',
          agentName: 'Agent ag-1',
          messageId,
          text: 'Your refund is on its way.',
          draftReplyId: 'rep-1',
          draftEdited: true,
        }),
      });
      expect(outbound).toEqual(
        expect.objectContaining({
          messageId,
          conversationId: C,
          channel: 'web',
          externalConversationId: 'ext-1',
          customerId: 'cust-1',
          kind: OutboundKind.AGENT_REPLY,
          text: 'Your refund is on its way.',
          inReplyTo: '',
          sentAt: NOW,
          // The name the assignment recorded, not what the desk sent.
          author: 'Agent ag-1',
        }),
      );
    });

    it('given a resolved conversation, when its agent replies, then conversationId breaks the open rule for good', () => {
      const state = withAgent(
        ev(
          'r',
          'conversationResolved',
          { resolution: Resolution.HUMAN, resolvedBy: 'ag-1', note: '' },
          4,
        ),
      );
      expect(rejection(decideDeskAction(reply('one more thing'), state, NOW))).toEqual(
        expect.objectContaining({ field: 'conversationId', rule: 'open', mayCatchUp: false }),
      );
    });

    it('given the agent handed the conversation back, when they reply, then it breaks the with_human rule', () => {
      const state = withAgent(
        ev('b', 'handedBack', { handoffId: 'ho-1', agentId: 'ag-1', agentName: 'A', note: '' }, 4),
      );
      expect(rejection(decideDeskAction(reply('still here'), state, NOW))).toEqual(
        expect.objectContaining({ field: 'conversationId', rule: 'with_human', mayCatchUp: false }),
      );
    });
  });

  describe('the conversation and its handoff', () => {
    it('given no such conversation, when an action comes, then conversationId is unknown, perhaps only yet', () => {
      expect(rejection(decideDeskAction(accept(), given(), NOW))).toEqual(
        expect.objectContaining({
          field: 'conversationId',
          rule: 'known_conversation',
          mayCatchUp: true,
        }),
      );
    });

    it('given a conversation without a handoff, when an action comes, then handoffId is not current', () => {
      expect(rejection(decideDeskAction(accept(), given(received(1)), NOW))).toEqual(
        expect.objectContaining({ field: 'handoffId', rule: 'current_handoff', mayCatchUp: true }),
      );
    });

    it('given a later handoff replaced the one a person held, when an action names the old one, then it is stale for good', () => {
      const state = withAgent(
        ev('b', 'handedBack', { handoffId: 'ho-1', agentId: 'ag-1', agentName: 'A', note: '' }, 4),
        received(5),
        handoff('ho-2', 6),
      );
      for (const kind of ['reply', 'markFalseEscalation'] as const)
        expect(rejection(decideDeskAction(of(kind), state, NOW))).toEqual(
          expect.objectContaining({
            field: 'handoffId',
            rule: 'current_handoff',
            message: 'is an earlier handoff of the conversation, not its current one',
            mayCatchUp: false,
          }),
        );
    });

    it('given an unknown handoff id, when an action names it, then it may be a handoff not yet seen', () => {
      expect(rejection(decideDeskAction(accept({ handoffId: 'ho-9' }), withAgent(), NOW))).toEqual(
        expect.objectContaining({ field: 'handoffId', rule: 'current_handoff', mayCatchUp: true }),
      );
    });

    it('given the action was appended already, when it comes again, then it is a duplicate, whatever the state says now', () => {
      const { event } = appended(decideDeskAction(accept(), withAgent(), NOW));
      expect(decideDeskAction(accept(), withAgent(event), NOW)).toEqual({
        kind: 'duplicate',
        eventId: event.eventId,
      });
    });
  });

  describe('hand back and resolve', () => {
    it('given the agent holds the conversation, when they hand it back, then HandedBack carries their name and note', () => {
      const { event } = appended(decideDeskAction(of('handBack'), withAgent(), NOW));
      expect(event.payload).toEqual({
        case: 'handedBack',
        value: expect.objectContaining({
          handoffId: 'ho-1',
          agentId: 'ag-1',
          agentName: 'Agent ag-1',
          note: 'refund done',
        }),
      });
    });

    it('given another agent holds it, when someone hands it back, then agentId breaks the holder rule', () => {
      expect(
        rejection(decideDeskAction(of('handBack', { agentId: 'ag-2' }), withAgent(), NOW)),
      ).toEqual(expect.objectContaining({ field: 'agentId', rule: 'holder' }));
    });

    it('given the agent holds the conversation, when they resolve it, then it is resolved by a human, by them, under an id from the action', () => {
      const { event } = appended(decideDeskAction(of('resolve'), withAgent(), NOW));
      expect(event.eventId).toBe(deskEventId('act-1'));
      expect(event.payload).toEqual({
        case: 'conversationResolved',
        value: expect.objectContaining({
          resolution: Resolution.HUMAN,
          resolvedBy: 'ag-1',
          note: 'sorted',
        }),
      });
      expect(fold(C, [event], withAgent()).status).toBe('resolved_by_human');
    });

    it('given the agent resolves it, then the customer is asked to rate it, once per action, in their language', () => {
      const decision = appended(decideDeskAction(of('resolve'), withAgent(), NOW));
      const [requested] = decision.followUps ?? [];
      const requestId = csatRequestIdFor(deskEventId('act-1'));
      expect(requested.payload).toEqual({
        case: 'csatRequested',
        value: expect.objectContaining({ requestId, channel: 'web' }),
      });
      expect(decision.outbound).toEqual(
        expect.objectContaining({
          kind: OutboundKind.CSAT_REQUEST,
          csatRequestId: requestId,
          author: 'system',
          text: notice('csatRequest', 'en'),
        }),
      );
      const again = appended(decideDeskAction(of('resolve'), withAgent(), NOW));
      expect(again.followUps?.[0].eventId).toBe(requested.eventId);
      expect(again.outbound?.messageId).toBe(decision.outbound?.messageId);
    });

    it('given the conversation is resolved, when its agent resolves it again, then it breaks the open rule', () => {
      const { event } = appended(decideDeskAction(of('resolve'), withAgent(), NOW));
      expect(
        rejection(decideDeskAction(of('resolve', { actionId: 'act-2' }), withAgent(event), NOW)),
      ).toEqual(expect.objectContaining({ field: 'conversationId', rule: 'open' }));
    });
  });

  describe('mark a false escalation and propose an article', () => {
    const resolved = () =>
      withAgent(
        ev(
          'r',
          'conversationResolved',
          { resolution: Resolution.HUMAN, resolvedBy: 'ag-1', note: '' },
          4,
        ),
      );

    it('given the agent resolved the conversation, when they mark it a false escalation, then it is appended', () => {
      const { event } = appended(decideDeskAction(of('markFalseEscalation'), resolved(), NOW));
      expect(event.payload).toEqual({
        case: 'falseEscalationMarked',
        value: expect.objectContaining({ handoffId: 'ho-1', agentId: 'ag-1', note: 'the AI knew' }),
      });
    });

    it('given the agent resolved the conversation, when they propose an article, then the draft gets an id from the action and trimmed text', () => {
      const { event } = appended(decideDeskAction(of('proposeArticle'), resolved(), NOW));
      expect(event.payload).toEqual({
        case: 'articleProposed',
        value: expect.objectContaining({
          handoffId: 'ho-1',
          agentId: 'ag-1',
          draftId: deskDraftId('act-1'),
          title: 'Refunds',
          body: 'How to refund',
          tags: ['billing'],
        }),
      });
    });

    it('given an agent held the handoff before another was assigned it, when either marks it, then it is theirs to mark', () => {
      // ag-1 held it until the resolution; a late assignment then names ag-2.
      const state = withAgent(
        ev(
          'r',
          'conversationResolved',
          { resolution: Resolution.HUMAN, resolvedBy: 'ag-1', note: '' },
          4,
        ),
        assigned('ho-1', 'ag-2', 5),
      );
      expect(state.handoff?.agent?.agentId).toBe('ag-2');
      expect(decideDeskAction(of('markFalseEscalation'), state, NOW).kind).toBe('append');
      expect(
        decideDeskAction(of('markFalseEscalation', { agentId: 'ag-2' }), state, NOW).kind,
      ).toBe('append');
    });

    it('given an agent who never held the handoff, when they propose an article, then agentId breaks the held_handoff rule', () => {
      expect(
        rejection(decideDeskAction(of('proposeArticle', { agentId: 'ag-3' }), resolved(), NOW)),
      ).toEqual(expect.objectContaining({ field: 'agentId', rule: 'held_handoff' }));
    });
  });
});
