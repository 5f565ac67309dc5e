import { Priority, Resolution } from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import { hotStateFrom } from './recovery';

const handoff = (c: string, h: string) =>
  conversationEvent(c, `${c}-h`, 'handoffRequested', {
    handoffId: h,
    messageId: 'm',
    triggers: [],
    priority: Priority.NORMAL,
    requiredSkills: ['billing'],
    language: 'en',
    policyVersion: 'v1',
  });
const assigned = (c: string, h: string, agentId: string) =>
  conversationEvent(c, `${c}-a`, 'agentAssigned', {
    handoffId: h,
    agentId,
    agentName: agentId,
    team: 'T',
  });
const queued = (c: string, h: string) =>
  conversationEvent(c, `${c}-q`, 'handoffQueued', { handoffId: h, queue: 'billing' });
const resolved = (c: string) =>
  conversationEvent(c, `${c}-r`, 'conversationResolved', {
    resolution: Resolution.HUMAN,
    resolvedBy: 'agent',
    note: '',
  });

describe('rebuilding the router hot state', () => {
  it('given conversations with humans, queued and resolved, then only open ones count', () => {
    const states: ConversationState[] = [
      fold('c1', [handoff('c1', 'h1'), assigned('c1', 'h1', 'ann')]),
      fold('c2', [handoff('c2', 'h2'), assigned('c2', 'h2', 'ann')]),
      fold('c3', [handoff('c3', 'h3'), assigned('c3', 'h3', 'bob'), resolved('c3')]),
      fold('c4', [handoff('c4', 'h4'), queued('c4', 'h4')]),
      fold('c5', [handoff('c5', 'h5'), queued('c5', 'h5'), assigned('c5', 'h5', 'bob')]),
      fold('c6', [handoff('c6', 'h6')]),
    ];
    const hot = hotStateFrom(states);
    expect(Object.fromEntries(hot.loads)).toEqual({ ann: ['h1', 'h2'], bob: ['h5'] });
    expect(hot.waiting.map((w) => w.handoffId)).toEqual(['h4']);
  });

  it('given assignments not accepted yet and a handoff an agent passed on, then their deadlines and who passed are kept', () => {
    const accepted = (c: string, h: string, agentId: string) =>
      conversationEvent(c, `${c}-ok`, 'agentAccepted', { handoffId: h, agentId });
    const declined = (c: string, h: string, agentId: string) =>
      conversationEvent(c, `${c}-no`, 'agentDeclined', { handoffId: h, agentId });
    const c1 = fold('c1', [handoff('c1', 'h1'), assigned('c1', 'h1', 'ann')]);
    const states: ConversationState[] = [
      c1,
      fold('c2', [handoff('c2', 'h2'), assigned('c2', 'h2', 'bob'), accepted('c2', 'h2', 'bob')]),
      fold('c3', [
        handoff('c3', 'h3'),
        assigned('c3', 'h3', 'bob'),
        declined('c3', 'h3', 'bob'),
        queued('c3', 'h3'),
      ]),
    ];
    const hot = hotStateFrom(states);
    expect(Object.fromEntries(hot.loads)).toEqual({ ann: ['h1'], bob: ['h2'] });
    expect(hot.unaccepted).toEqual([
      {
        conversationId: 'c1',
        handoffId: 'h1',
        agentId: 'ann',
        assignedAt: c1.handoff!.agent!.assignedAt,
      },
    ]);
    expect(hot.waiting.map((w) => [w.handoffId, w.passedBy])).toEqual([['h3', ['bob']]]);
  });
});
