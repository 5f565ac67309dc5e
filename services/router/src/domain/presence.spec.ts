import { create, AgentPresenceSchema, PresenceStatus } from '@support/contracts';
import { presenceChange, presenceProblem } from './presence';

const report = (fields: Partial<{ agentId: string; status: PresenceStatus; reportedAt: string }>) =>
  create(AgentPresenceSchema, {
    agentId: 'agent-1',
    status: PresenceStatus.ONLINE,
    reportedAt: '2026-11-21T10:00:00.000Z',
    ...fields,
  });

const NOW = Date.parse('2026-11-21T10:00:10.000Z');
const TTL = 60;

describe('presence reports from the agent.presence topic', () => {
  it('accepts a report naming an agent and a status; rejects the rest naming the field', () => {
    expect(presenceProblem(report({}))).toBeUndefined();
    expect(presenceProblem(report({ reportedAt: '' }))).toBeUndefined();
    expect(presenceProblem(report({ agentId: '' }))).toBe('agent_id is required');
    expect(presenceProblem(report({ agentId: 'has space' }))).toMatch(/^agent_id: /);
    expect(presenceProblem(report({ status: PresenceStatus.UNSPECIFIED }))).toMatch(/^status /);
    expect(presenceProblem(report({ status: 7 as PresenceStatus }))).toMatch(/^status /);
    expect(presenceProblem(report({ reportedAt: 'yesterday' }))).toMatch(/^reported_at /);
  });

  it('holds a report for the rest of the time to live from when it was reported', () => {
    expect(presenceChange(report({}), NOW, TTL, NOW)).toEqual({
      agentId: 'agent-1',
      status: 'online',
      ttlSeconds: 50,
    });
    expect(presenceChange(report({ status: PresenceStatus.AWAY }), NOW, TTL, NOW)?.status).toBe(
      'away',
    );
    expect(presenceChange(report({ status: PresenceStatus.OFFLINE }), NOW, TTL, NOW)).toEqual(
      expect.objectContaining({ status: 'offline' }),
    );
  });

  it('without a time of its own, counts from when the topic received it', () => {
    expect(presenceChange(report({ reportedAt: '' }), NOW - 30_000, TTL, NOW)?.ttlSeconds).toBe(30);
  });

  it('says nothing once older than the time to live (a consumer catching up on old reports)', () => {
    const old = report({ reportedAt: '2026-11-21T09:58:00.000Z' });
    expect(presenceChange(old, NOW, TTL, NOW)).toBeUndefined();
    expect(
      presenceChange(
        report({ status: PresenceStatus.OFFLINE, reportedAt: '2026-11-21T09:00:00.000Z' }),
        NOW,
        TTL,
        NOW,
      ),
    ).toBeUndefined();
  });

  it('counts a time ahead of now (a fast clock) as now', () => {
    const ahead = report({ reportedAt: '2026-11-21T11:00:00.000Z' });
    expect(presenceChange(ahead, NOW, TTL, NOW)?.ttlSeconds).toBe(TTL);
  });
});
