import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import type { INestApplication } from '@nestjs/common';
import { DeadLetterTopics, Topics } from '@support/bus';
import {
  create,
  DeskActionSchema,
  fromBinary,
  OutboundKind,
  Priority,
  Resolution,
  type ConversationEvent,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import type { JsonLogger } from '@support/service-kit';
import { customerMessageReceived, waitUntil, type ServiceRig } from '@support/testing';
import { startIngestRig } from '../../test/rig';
import { SERVICE } from '../config';
import { csatRequestIdFor } from '../domain/closing';
import { deskDraftId, deskEventId, deskReplyMessageId } from '../domain/desk-actions';
import { streamToken } from '../domain/ids';

jest.setTimeout(90_000);

const API_KEY = `itest-${randomUUID()}`;
const STREAM_SECRET = `stream-secret-${randomUUID()}`;
const deskDlq = DeadLetterTopics.find((t) => t.name === Topics.deskActions.deadLetter)!;

type ActionCase = MessageInitShape<typeof DeskActionSchema>['action'];

/** One conversation on the log, as the other services would have written it, and a desk acting on it. */
function conversationScript() {
  const conversationId = randomUUID();
  const messageId = randomUUID();
  const agent = { agentId: `agent-${randomUUID()}`, agentName: 'Ada Lovelace' };
  let handoffId = randomUUID();
  return {
    conversationId,
    agent,
    get handoffId() {
      return handoffId;
    },
    received: (id = messageId): ConversationEvent =>
      customerMessageReceived(conversationId, {
        messageId: id,
        text: 'I want to talk to a person',
      }),
    handoffRequested: (forMessage = messageId): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId: forMessage,
        triggers: [
          { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
        ],
        priority: Priority.NORMAL,
        requiredSkills: ['general'],
        language: 'en',
        policyVersion: 'itest',
      }),
    assigned: (who = agent): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'agentAssigned', {
        handoffId,
        agentId: who.agentId,
        agentName: who.agentName,
        team: 'Support',
      }),
    /** A second handoff of the conversation from now on (the first one becomes stale). */
    newHandoff: () => {
      handoffId = randomUUID();
    },
    /** A DeskAction of this conversation's agent on its current handoff. */
    action: (action: ActionCase, fields: Partial<MessageInitShape<typeof DeskActionSchema>> = {}) =>
      create(DeskActionSchema, {
        actionId: randomUUID(),
        conversationId,
        handoffId,
        agentId: agent.agentId,
        agentName: agent.agentName,
        sentAt: new Date().toISOString(),
        action,
        ...fields,
      }),
  };
}

type Script = ReturnType<typeof conversationScript>;
type Action = ReturnType<Script['action']>;

describe('ingest: desk actions into the conversation log (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;
  let logger: JsonLogger;

  beforeAll(async () => {
    ({ rig, logger } = await startIngestRig(
      'ingest-desk-itest',
      {
        INGEST_API_KEYS: API_KEY,
        STREAM_TOKEN_SECRET: STREAM_SECRET,
        // Dead letters that wait for the log to catch up come sooner.
        DESK_CATCH_UP_MS: '2500',
      },
      [Topics.events, Topics.outbound, deskDlq],
    ));
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** Publishes a desk action as a desk would: keyed by its conversation, its event id the action id. */
  const send = (action: Action, key = action.conversationId) =>
    rig.bus.publish({
      topic: Topics.deskActions,
      key,
      value: action,
      eventId: action.actionId,
      correlationId: `corr-${action.actionId}`,
    });

  const eventsOf = (conversationId: string) =>
    rig.watcher.records(Topics.events).filter((r) => r.value.conversationId === conversationId);

  /** The log event an action appended (waits for it). */
  const appendedFor = async (action: Action) =>
    (
      await rig.watcher.waitFor(
        Topics.events,
        (r) => r.value.eventId === deskEventId(action.actionId),
      )
    )[0];

  /** The dead letter of an action (waits for it); nothing of the action is on the log by then. */
  const deadLetterOf = async (action: Action) => {
    const [letter] = await rig.watcher.waitFor(deskDlq, (r) => {
      const original = fromBinary(DeskActionSchema, r.value.originalValue);
      return original.actionId === action.actionId;
    });
    expect(letter.value.originalTopic).toBe(Topics.deskActions.name);
    expect(letter.value.consumerGroup).toBe(`${SERVICE}.desk-actions`);
    expect(
      rig.watcher
        .records(Topics.events)
        .filter((r) => r.value.eventId === deskEventId(action.actionId)),
    ).toEqual([]);
    return letter.value;
  };

  const conversation = async (conversationId: string) => {
    const res = await fetch(`${rig.url}/v1/conversations/${conversationId}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const agentOf = async (conversationId: string) => {
    const { status, body } = await conversation(conversationId);
    return status === 200
      ? (body.handoff as { agent?: { agentId: string } } | undefined)?.agent?.agentId
      : undefined;
  };

  /** A customer message, a handoff and the assignment to the script's agent, applied by ingest. */
  const assignedConversation = async (): Promise<Script> => {
    const c = conversationScript();
    await rig.append(c.received());
    await rig.append(c.handoffRequested());
    await rig.append(c.assigned());
    await waitUntil(
      'ingest to apply the assignment',
      async () => (await agentOf(c.conversationId)) === c.agent.agentId,
    );
    return c;
  };

  const accept = { case: 'accept' as const, value: {} };
  const reply = (text: string) => ({
    case: 'reply' as const,
    value: { text, draftReplyId: '', draftEdited: false },
  });

  it('appends AgentAccepted for the assigned agent, with the action as its cause', async () => {
    const c = await assignedConversation();
    const action = c.action(accept);
    await send(action);
    const record = await appendedFor(action);
    expect(record.key).toBe(c.conversationId);
    expect(record.value.payload).toEqual({
      case: 'agentAccepted',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        actionId: action.actionId,
      }),
    });
    expect(record.meta).toEqual(
      expect.objectContaining({
        eventId: deskEventId(action.actionId),
        eventType: 'support.v1.AgentAccepted',
        correlationId: `corr-${action.actionId}`,
        causationId: action.actionId,
        producer: SERVICE,
      }),
    );
    await waitUntil("the acceptance in ingest's state", async () => {
      const { body } = await conversation(c.conversationId);
      return !!(body.handoff as { agent?: { acceptedAt?: string } }).agent?.acceptedAt;
    });
  });

  it("sends a reply to the customer as the agent's, on the log and on support.outbound, once however often it is delivered", async () => {
    const c = await assignedConversation();
    // The desk-actions group's committed transactions, from @platformatic/kafka's diagnostics channel.
    let transactions = 0;
    const channel = tracingChannel('plt:kafka:producer:transactions');
    type Context = { operation: string; transaction?: { id: string }; error?: unknown };
    const counter = {
      asyncStart: (c: unknown) => {
        const { operation, transaction, error } = c as Context;
        if (
          operation === 'commit' &&
          !error &&
          transaction?.id.startsWith(`${SERVICE}.desk-actions:`)
        )
          transactions++;
      },
    };
    channel.subscribe(counter);
    const action = c.action(reply('  Your refund is on its way.  '));
    await send(action);
    const record = await appendedFor(action);
    // The reply and its event went out in a transaction with the offset past the action.
    channel.unsubscribe(counter);
    expect(transactions).toBeGreaterThanOrEqual(1);
    const messageId = deskReplyMessageId(action.actionId);
    expect(record.value.payload).toEqual({
      case: 'agentReplied',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        agentName: 'Ada Lovelace',
        messageId,
        text: 'Your refund is on its way.',
      }),
    });
    const [outbound] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => r.value.messageId === messageId,
    );
    expect(outbound.key).toBe(c.conversationId);
    expect(outbound.value).toEqual(
      expect.objectContaining({
        conversationId: c.conversationId,
        channel: 'web',
        externalConversationId: `ext-${c.conversationId}`,
        customerId: `cust-${c.conversationId}`,
        kind: OutboundKind.AGENT_REPLY,
        author: 'Ada Lovelace',
        text: 'Your refund is on its way.',
        inReplyTo: '',
      }),
    );

    // The same action again, then another one behind it in the same partition: once that one is
    // on the log, the repeat has been handled, and it appended nothing.
    await send(action);
    await send(action);
    const next = c.action(reply('Anything else?'));
    await send(next);
    await appendedFor(next);
    expect(
      eventsOf(c.conversationId).filter((r) => r.value.eventId === record.value.eventId),
    ).toHaveLength(1);
    expect(
      rig.watcher.records(Topics.outbound).filter((r) => r.value.messageId === messageId),
    ).toHaveLength(1);

    // The customer's web chat (the SSE stream of support.outbound) shows it, with the agent's name.
    const abort = new AbortController();
    const res = await fetch(
      `${rig.url}/v1/conversations/${c.conversationId}/stream?token=${streamToken(STREAM_SECRET, c.conversationId)}`,
      { signal: abort.signal },
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let seen = '';
    try {
      const last = `"messageId":"${deskReplyMessageId(next.actionId)}"`;
      // Until the second reply's event has come whole (each event ends with a blank line).
      while (!(seen.includes(last) && seen.endsWith('\n\n'))) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString('utf8');
      }
    } finally {
      abort.abort();
    }
    const messages = seen
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice('data: '.length)) as Record<string, unknown>);
    expect(messages).toEqual([
      expect.objectContaining({
        messageId,
        kind: 'OUTBOUND_KIND_AGENT_REPLY',
        author: 'Ada Lovelace',
        text: 'Your refund is on its way.',
      }),
      expect.objectContaining({ messageId: deskReplyMessageId(next.actionId) }),
    ]);
  });

  it('appends a decline with its reason, and the conversation waits for someone else', async () => {
    const c = await assignedConversation();
    const action = c.action({ case: 'decline', value: { reason: 'not my area' } });
    await send(action);
    const record = await appendedFor(action);
    expect(record.value.payload).toEqual({
      case: 'agentDeclined',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        reason: 'not my area',
        actionId: action.actionId,
      }),
    });
    await waitUntil(
      'ingest to see the handoff waiting again',
      async () => (await conversation(c.conversationId)).body.status === 'awaiting_human',
    );
    // Whoever declined cannot reply any more.
    const late = c.action(reply('Hello?'));
    await send(late);
    expect((await deadLetterOf(late)).reason).toBe(
      'rejected support.v1.DeskAction: agentId (holder): let this handoff go (declined or did not accept in time)',
    );
  });

  it('hands the conversation back to the AI, after which the agent can no longer reply', async () => {
    const c = await assignedConversation();
    const back = c.action({ case: 'handBack', value: { note: 'Refund issued' } });
    const after = c.action(reply('one more thing'));
    // Straight after each other: the reply is judged knowing the hand back, applied or not.
    await send(back);
    await send(after);
    const record = await appendedFor(back);
    expect(record.value.payload).toEqual({
      case: 'handedBack',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        agentName: 'Ada Lovelace',
        note: 'Refund issued',
      }),
    });
    expect((await deadLetterOf(after)).reason).toBe(
      'rejected support.v1.DeskAction: conversationId (with_human): the conversation was handed back to the AI',
    );
  });

  it('resolves from the desk as a human resolution, and the agent can still mark it and propose an article', async () => {
    const c = await assignedConversation();
    const resolve = c.action({ case: 'resolve', value: { note: 'refund issued' } });
    await send(resolve);
    const resolved = await appendedFor(resolve);
    expect(resolved.value.payload).toEqual({
      case: 'conversationResolved',
      value: expect.objectContaining({
        resolution: Resolution.HUMAN,
        resolvedBy: c.agent.agentId,
        note: 'refund issued',
      }),
    });
    // The customer is asked to rate the conversation, on the log and on support.outbound.
    const requestId = csatRequestIdFor(deskEventId(resolve.actionId));
    const [requested] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === c.conversationId && r.value.payload.case === 'csatRequested',
    );
    expect(requested.value.payload.value).toEqual(expect.objectContaining({ requestId }));
    const [ask] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === c.conversationId,
    );
    expect(ask.value).toEqual(
      expect.objectContaining({ kind: OutboundKind.CSAT_REQUEST, csatRequestId: requestId }),
    );
    await waitUntil(
      'ingest to see the resolution',
      async () => (await conversation(c.conversationId)).body.status === 'resolved_by_human',
    );

    const mark = c.action({ case: 'markFalseEscalation', value: { note: 'the FAQ covers it' } });
    const propose = c.action({
      case: 'proposeArticle',
      value: { title: ' Refund timing ', body: 'Refunds take 5 days.', tags: ['billing'] },
    });
    const replyAfter = c.action(reply('and another thing'));
    await send(mark);
    await send(propose);
    await send(replyAfter);
    expect((await appendedFor(mark)).value.payload).toEqual({
      case: 'falseEscalationMarked',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        note: 'the FAQ covers it',
      }),
    });
    expect((await appendedFor(propose)).value.payload).toEqual({
      case: 'articleProposed',
      value: expect.objectContaining({
        handoffId: c.handoffId,
        agentId: c.agent.agentId,
        draftId: deskDraftId(propose.actionId),
        title: 'Refund timing',
        body: 'Refunds take 5 days.',
        tags: ['billing'],
      }),
    });
    expect((await deadLetterOf(replyAfter)).reason).toBe(
      'rejected support.v1.DeskAction: conversationId (open): the conversation is resolved already',
    );
    await waitUntil('ingest to apply the mark and the draft', async () => {
      const h = (await conversation(c.conversationId)).body.handoff as {
        falseEscalation?: unknown;
        articleDrafts?: unknown[];
      };
      return !!h.falseEscalation && h.articleDrafts?.length === 1;
    });

    // The HTTP resolve still answers for the same conversation: it is resolved already.
    const again = await fetch(`${rig.url}/v1/conversations/${c.conversationId}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(again.status).toBe(409);
  });

  it('keeps the HTTP resolve working: a conversation with a person resolves as human', async () => {
    const c = await assignedConversation();
    const res = await fetch(`${rig.url}/v1/conversations/${c.conversationId}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resolvedBy: 'customer', note: 'thanks' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ conversationId: c.conversationId, resolution: 'human' });
    const [record] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === c.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    expect(record.value.payload.value).toEqual(
      expect.objectContaining({ resolution: Resolution.HUMAN, resolvedBy: 'customer' }),
    );
  });

  it('dead-letters what does not fit, naming the field and the rule, appends nothing, and goes on', async () => {
    const c = await assignedConversation();
    const stranger = { agentId: `agent-${randomUUID()}`, agentName: 'Mallory' };
    const cases: [Action, string, string | undefined][] = [
      [
        c.action(reply('I am not assigned'), stranger),
        'rejected support.v1.DeskAction: agentId (holder): is not the agent the handoff is assigned to',
        undefined,
      ],
      [
        c.action(accept, stranger),
        'rejected support.v1.DeskAction: agentId (holder): is not the agent the handoff is assigned to',
        undefined,
      ],
      [
        c.action(reply('   ')),
        'invalid support.v1.DeskAction: reply.text (length): must be 1 to 5000 characters once trimmed (was 0)',
        undefined,
      ],
      [
        c.action(reply('hello'), { conversationId: randomUUID() }),
        'rejected support.v1.DeskAction: conversationId (known_conversation): no such conversation in the log',
        undefined,
      ],
      [
        c.action(accept, { handoffId: randomUUID() }),
        'rejected support.v1.DeskAction: handoffId (current_handoff): is not the current handoff of the conversation',
        undefined,
      ],
      [
        c.action({ case: undefined }),
        'invalid support.v1.DeskAction: action (required): must be one of accept, decline, reply, handBack, resolve, markFalseEscalation, proposeArticle, review',
        undefined,
      ],
      [
        c.action(accept),
        'rejected support.v1.DeskAction: key (conversation_key): the record key must be the conversation id, so that a conversation\'s actions keep their order (was "someone-else")',
        'someone-else',
      ],
    ];
    for (const [action, , key] of cases) await send(action, key);
    for (const [action, reason] of cases) {
      const letter = await deadLetterOf(action);
      expect(letter.reason).toBe(reason);
      expect(fromBinary(DeskActionSchema, letter.originalValue)).toEqual(action);
    }

    // Still consuming: the holder's reply after all of that is appended.
    const good = c.action(reply('Sorry for the wait'));
    await send(good);
    await appendedFor(good);
    expect((await fetch(`${rig.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${rig.url}/metrics`)).text();
    expect(metrics).toMatch(/ingest_desk_actions_total\{action="reply",outcome="appended"\} \d+/);
    expect(metrics).toMatch(/ingest_desk_actions_total\{action="reply",outcome="rejected"\} \d+/);
  });

  it('dead-letters an action on a handoff that a later one replaced', async () => {
    const c = await assignedConversation();
    const back = c.action({ case: 'handBack', value: { note: '' } });
    await send(back);
    await appendedFor(back);
    // The customer writes again and is handed off again: a new handoff, assigned again.
    const staleHandoff = c.handoffId;
    const second = randomUUID();
    await rig.append(c.received(second));
    c.newHandoff();
    await rig.append(c.handoffRequested(second));
    await rig.append(c.assigned());
    await waitUntil('ingest to apply the second handoff', async () => {
      const h = (await conversation(c.conversationId)).body.handoff as { handoffId: string };
      return h.handoffId === c.handoffId && (await agentOf(c.conversationId)) === c.agent.agentId;
    });
    const stale = c.action(reply('about the old matter'), { handoffId: staleHandoff });
    await send(stale);
    expect((await deadLetterOf(stale)).reason).toBe(
      'rejected support.v1.DeskAction: handoffId (current_handoff): is an earlier handoff of the conversation, not its current one',
    );
    const current = c.action(reply('about the new matter'));
    await send(current);
    await appendedFor(current);
  });

  it('waits for the log when an action comes before the assignment it answers has reached ingest', async () => {
    const c = conversationScript();
    await rig.append(c.received());
    await rig.append(c.handoffRequested());
    await waitUntil(
      'ingest to apply the handoff',
      async () => (await conversation(c.conversationId)).body.status === 'awaiting_human',
    );
    // The desk is quicker than ingest's snapshot: ingest has the action before the assignment is on the log.
    const logged = jest.spyOn(logger, 'log');
    const action = c.action(accept);
    await send(action);
    await waitUntil('ingest to hold the action back for the log', () =>
      logged.mock.calls.some(
        ([msg, context]) =>
          msg === 'desk action waits for the log to catch up' &&
          (context as { actionId?: string }).actionId === action.actionId,
      ),
    );
    expect(logged).toHaveBeenCalledWith(
      'desk action waits for the log to catch up',
      expect.objectContaining({
        conversationId: c.conversationId,
        field: 'agentId',
        rule: 'holder',
      }),
    );
    await rig.append(c.assigned());
    const record = await appendedFor(action);
    expect(record.value.payload.case).toBe('agentAccepted');
    const assignedAt = eventsOf(c.conversationId).find(
      (r) => r.value.payload.case === 'agentAssigned',
    )!;
    expect(BigInt(record.offset)).toBeGreaterThan(BigInt(assignedAt.offset));
    expect(rig.watcher.records(deskDlq).filter((r) => r.key === c.conversationId)).toEqual([]);
    logged.mockRestore();
  });
});
