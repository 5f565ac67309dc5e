import {
  create,
  AgentAssignmentSchema,
  HandoffRequestSchema,
  InsightAlertSchema,
  Priority,
} from '@support/contracts';
import {
  alertRecord,
  backoffMs,
  handoffRecord,
  invalidAlert,
  webhookInputSchema,
} from './webhooks';

describe('backoffMs: how long a failed webhook delivery waits before the next attempt', () => {
  it('waits the base after the first failure, then twice as long each time', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => backoffMs(attempts, 5000))).toEqual([
      5000, 10_000, 20_000, 40_000, 80_000,
    ]);
    expect([1, 2, 3].map((attempts) => backoffMs(attempts, 50))).toEqual([50, 100, 200]);
  });

  it('waits the base for zero attempts (a delivery retried by hand)', () => {
    expect(backoffMs(0, 5000)).toBe(5000);
  });

  it('never waits more than an hour', () => {
    expect(backoffMs(10, 5000)).toBe(2_560_000);
    expect(backoffMs(11, 5000)).toBe(3600_000);
    expect(backoffMs(30, 5000)).toBe(3600_000);
  });
});

describe('webhookInputSchema: a subscription', () => {
  it('takes an http(s) URL and subscribes to the handoff records in the standard format by default', () => {
    expect(webhookInputSchema.parse({ url: 'https://desk.example.com/hooks' })).toEqual({
      url: 'https://desk.example.com/hooks',
      events: ['handoff.requested', 'handoff.assignment'],
      format: 'standard',
      description: '',
    });
  });

  it('takes the insight alerts and the Slack format when asked', () => {
    expect(
      webhookInputSchema.parse({
        url: 'https://hooks.slack.com/services/T/B/X',
        events: ['churn_risk', 'knowledge_gap', 'handoff.requested'],
        format: 'slack',
      }),
    ).toMatchObject({
      events: ['churn_risk', 'knowledge_gap', 'handoff.requested'],
      format: 'slack',
    });
  });

  it('refuses other schemes, unknown record types and an empty list, naming the field', () => {
    const fields = (body: unknown) =>
      webhookInputSchema.safeParse(body).error?.issues.map((i) => i.path.join('.'));
    expect(fields({ url: 'ftp://example.com/x' })).toEqual(['url']);
    expect(fields({ url: 'not a url' })).toEqual(['url']);
    expect(fields({ url: 'https://example.com', events: ['handoff.closed'] })).toEqual([
      'events.0',
    ]);
    expect(fields({ url: 'https://example.com', events: [] })).toEqual(['events']);
    expect(fields({ url: 'https://example.com', events: ['churn-risk'] })).toEqual(['events.0']);
    expect(fields({ url: 'https://example.com', format: 'teams' })).toEqual(['format']);
  });
});

describe('what a webhook receives for a record, in each format', () => {
  const meta = { eventId: 'ev-1', time: '2025-03-04T10:00:00.000Z' };

  it('sends a handoff as its record (standard) or as a Slack message', () => {
    const request = create(HandoffRequestSchema, {
      handoffId: 'h-1',
      conversationId: 'c-1',
      priority: Priority.HIGH,
      briefing: { summary: 'Charged twice', topic: 'billing' },
    });
    const record = handoffRecord('handoff.requested', request, meta);
    expect(record.standard()).toEqual({
      type: 'handoff.requested',
      id: 'ev-1',
      occurredAt: meta.time,
      data: expect.objectContaining({
        handoffId: 'h-1',
        priority: 'PRIORITY_HIGH',
        briefing: expect.objectContaining({ summary: 'Charged twice' }),
      }),
    });
    expect(record.slack().text).toBe('Handoff: billing, priority high — Charged twice');
    const assignment = handoffRecord(
      'handoff.assignment',
      create(AgentAssignmentSchema, { handoffId: 'h-1', agentName: 'Ida' }),
      meta,
    );
    expect(assignment.standard().data).toMatchObject({ handoffId: 'h-1', agentName: 'Ida' });
    expect(assignment.slack().text).toBe('Handoff assigned to Ida');
  });

  it("sends an alert under the alert's id, so an alert raised twice is one delivery", () => {
    const alert = create(InsightAlertSchema, {
      alertId: 'churn:acct-acme:2025-03-04',
      occurredAt: meta.time,
      payload: {
        case: 'churnRisk',
        value: { accountId: 'acct-acme', accountName: 'Acme', reasons: ['VIP account'] },
      },
    });
    const record = alertRecord(alert)!;
    expect(record.type).toBe('churn_risk');
    expect(record.id).toBe('churn:acct-acme:2025-03-04');
    expect(record.standard()).toEqual({
      type: 'churn_risk',
      id: 'churn:acct-acme:2025-03-04',
      occurredAt: meta.time,
      data: { accountId: 'acct-acme', accountName: 'Acme', reasons: ['VIP account'] },
    });
    expect(record.slack().text).toBe('Churn risk: Acme — VIP account');

    const gap = alertRecord(
      create(InsightAlertSchema, {
        alertId: 'gap:billing:2025-03-04T00:24h',
        payload: {
          case: 'knowledgeGap',
          value: { topic: 'billing', escalations: 9, previousEscalations: 3, windowHours: 24 },
        },
      }),
    )!;
    expect(gap.type).toBe('knowledge_gap');
    expect(gap.slack().text).toBe('Knowledge gap: billing — 9 escalations in 24 h (3 before)');
  });

  it('dead-letters an alert without an id or a payload', () => {
    expect(invalidAlert(create(InsightAlertSchema, {}))).toBe('alert_id is required');
    expect(invalidAlert(create(InsightAlertSchema, { alertId: 'x' }))).toBe('payload is required');
    expect(alertRecord(create(InsightAlertSchema, { alertId: 'x' }))).toBeUndefined();
  });
});
