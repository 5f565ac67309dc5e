import { Priority } from '@support/contracts';
import { conversationEvent, fold } from '@support/conversation';
import {
  attemptOf,
  handoffTarget,
  pickFromQueue,
  queueName,
  queueScore,
  type HandoffTarget,
} from './handoff';
import { loadRoutingPolicy } from './routing-policy';

const policy = loadRoutingPolicy();
import type { AgentProfile } from './routing';

const C = 'conv-1';

describe('handoff targets', () => {
  it('given a conversation with a handoff, then the target carries the channel, the needs and the correlation', () => {
    const state = fold(C, [
      conversationEvent(C, 'e1', 'customerMessageReceived', {
        messageId: 'm1',
        channel: 'web',
        externalConversationId: 'ext-1',
        customerId: 'cust-1',
        text: 'I was charged twice',
        locale: 'es',
        pageUrl: '',
        idempotencyKey: 'k1',
        accountId: '',
        sentAt: '',
      }),
      conversationEvent(C, 'e2', 'handoffRequested', {
        handoffId: 'h1',
        messageId: 'm1',
        triggers: [],
        priority: Priority.HIGH,
        requiredSkills: ['billing'],
        language: '',
        policyVersion: 'v1',
      }),
    ]);
    expect(handoffTarget(state, 'corr-1')).toEqual(
      expect.objectContaining({
        handoffId: 'h1',
        conversationId: C,
        messageId: 'm1',
        channel: 'web',
        externalConversationId: 'ext-1',
        customerId: 'cust-1',
        requiredSkills: ['billing'],
        language: 'es',
        priority: Priority.HIGH,
        correlationId: 'corr-1',
      }),
    );
  });

  it('given agents who passed on the handoff, then the target names them and counts the attempt', () => {
    const events = [
      conversationEvent(C, 'e1', 'customerMessageReceived', {
        messageId: 'm1',
        channel: 'web',
        externalConversationId: 'ext-1',
        customerId: 'cust-1',
        text: 'Hi',
        locale: 'en',
        pageUrl: '',
        idempotencyKey: 'k1',
        accountId: '',
        sentAt: '',
      }),
      conversationEvent(C, 'e2', 'handoffRequested', {
        handoffId: 'h1',
        messageId: 'm1',
        triggers: [],
        priority: Priority.NORMAL,
        requiredSkills: [],
        language: 'en',
        policyVersion: 'v1',
      }),
      conversationEvent(C, 'e3', 'agentAssigned', { handoffId: 'h1', agentId: 'ann' }),
      conversationEvent(C, 'e4', 'agentDeclined', { handoffId: 'h1', agentId: 'ann' }),
      conversationEvent(C, 'e5', 'agentAssigned', { handoffId: 'h1', agentId: 'bob' }),
      conversationEvent(C, 'e6', 'acceptTimedOut', { handoffId: 'h1', agentId: 'bob' }),
    ];
    const first = handoffTarget(fold(C, events.slice(0, 2)), '')!;
    expect([first.passedBy, attemptOf(first)]).toEqual([[], 0]);
    const later = handoffTarget(fold(C, events), '')!;
    expect([later.passedBy, attemptOf(later)]).toEqual([['ann', 'bob'], 2]);
    // A queue item from before agents could pass on a handoff.
    expect(attemptOf({})).toBe(0);
  });

  it('given no handoff, then there is no target', () => {
    expect(handoffTarget(fold(C, []), 'x')).toBeUndefined();
  });
});

describe('the queue', () => {
  it('is named after the first required skill, or general', () => {
    expect(queueName([' Billing', 'refunds'])).toBe('billing');
    expect(queueName([])).toBe('general');
  });

  it('serves higher priority first, then the earlier request', () => {
    const t = Date.parse('2026-01-01T00:00:00Z');
    const urgentLate = queueScore(Priority.URGENT, t + 60_000);
    const normalEarly = queueScore(Priority.NORMAL, t);
    const normalLate = queueScore(Priority.NORMAL, t + 1);
    expect(urgentLate).toBeLessThan(normalEarly);
    expect(normalEarly).toBeLessThan(normalLate);
    expect(Number.isSafeInteger(queueScore(Priority.UNSPECIFIED, t))).toBe(true);
  });

  it('given a waiting handoff nobody free can take, then the next one that somebody can take is picked', () => {
    const agents: AgentProfile[] = [
      {
        id: 'a',
        name: 'A',
        team: 'T',
        skills: ['billing'],
        languages: ['en'],
        maxConcurrent: 1,
        active: true,
      },
      {
        id: 'b',
        name: 'B',
        team: 'T',
        skills: ['technical'],
        languages: ['en'],
        maxConcurrent: 1,
        active: true,
      },
    ];
    const now = Date.parse('2026-11-21T10:00:00Z');
    const waiting = (id: string, skill: string, waitedS = 0) =>
      ({
        handoffId: id,
        requiredSkills: [skill],
        language: 'en',
        requestedAt: new Date(now - waitedS * 1000).toISOString(),
      }) as Partial<HandoffTarget> as HandoffTarget;
    const picked = pickFromQueue(
      [waiting('h1', 'billing'), waiting('h2', 'technical')],
      agents,
      new Map([['a', 1]]),
      policy,
      now,
    );
    expect(picked?.target.handoffId).toBe('h2');
    expect(picked?.candidates.map((c) => c.id)).toEqual(['b']);
    expect(picked?.step.name).toBe('specialist');
    expect(
      pickFromQueue([waiting('h1', 'billing')], agents, new Map([['a', 1]]), policy, now),
    ).toBeUndefined();
    // Once it has waited past the last step, anyone with room takes it.
    const late = pickFromQueue(
      [waiting('h1', 'billing', 200)],
      agents,
      new Map([['a', 1]]),
      policy,
      now,
    );
    expect([late?.step.name, late?.candidates.map((c) => c.id)]).toEqual(['anyone', ['b']]);
  });

  it('given a waiting handoff that only agents who passed on it could take, then it is skipped for the next', () => {
    const agents: AgentProfile[] = ['a', 'b'].map((id) => ({
      id,
      name: id,
      team: 'T',
      skills: ['billing'],
      languages: ['en'],
      maxConcurrent: 1,
      active: true,
    }));
    const now = Date.parse('2026-11-21T10:00:00Z');
    const waiting = (id: string, passedBy: string[]) =>
      ({
        handoffId: id,
        requiredSkills: ['billing'],
        language: 'en',
        requestedAt: new Date(now).toISOString(),
        passedBy,
      }) as Partial<HandoffTarget> as HandoffTarget;
    const picked = pickFromQueue(
      [waiting('h1', ['a', 'b']), waiting('h2', ['a'])],
      agents,
      new Map(),
      policy,
      now,
    );
    expect(picked?.target.handoffId).toBe('h2');
    expect(picked?.candidates.map((c) => c.id)).toEqual(['b']);
    expect(pickFromQueue([waiting('h1', ['a', 'b'])], agents, new Map(), policy, now)).toBe(
      undefined,
    );
  });
});
