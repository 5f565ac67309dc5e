import { parseRange, summarize } from './summary';

describe('summary', () => {
  it('given counts, then the rates are shares of the conversations', () => {
    const s = summarize(
      {},
      {
        conversations: 8,
        aiReplies: 20,
        aiResolutions: 5,
        humanResolutions: 2,
        handoffs: 4,
        conversationsWithHandoff: 3,
        assigned: 3,
      },
    );
    expect(s).toEqual({
      from: null,
      to: null,
      conversations: 8,
      aiReplies: 20,
      aiResolutions: 5,
      humanResolutions: 2,
      handoffs: 4,
      handoffRate: 0.375,
      automationRate: 0.625,
      assigned: 3,
    });
  });

  it('given no conversations, then the rates are 0', () => {
    const s = summarize(
      {},
      {
        conversations: 0,
        aiReplies: 0,
        aiResolutions: 0,
        humanResolutions: 0,
        handoffs: 0,
        conversationsWithHandoff: 0,
        assigned: 0,
      },
    );
    expect([s.handoffRate, s.automationRate]).toEqual([0, 0]);
  });

  it('given a valid range, then it is echoed as ISO times', () => {
    const { range, issues } = parseRange({ from: '2026-01-01', to: '2026-02-01T00:00:00+01:00' });
    expect(issues).toEqual([]);
    expect(
      summarize(range, {
        conversations: 0,
        aiReplies: 0,
        aiResolutions: 0,
        humanResolutions: 0,
        handoffs: 0,
        conversationsWithHandoff: 0,
        assigned: 0,
      }),
    ).toEqual(
      expect.objectContaining({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-31T23:00:00.000Z' }),
    );
  });

  it('given an invalid date, then the issue names the field', () => {
    expect(
      parseRange({ from: 'yesterday', to: '2026-13-45' }).issues.map((i) => [i.field, i.rule]),
    ).toEqual([
      ['from', 'timestamp'],
      ['to', 'timestamp'],
    ]);
    expect(parseRange({ from: ['2026-01-01', '2026-01-02'] }).issues[0]?.field).toBe('from');
    expect(parseRange({ to: '2026-02-30T00:00:00Z' }).issues[0]?.field).toBe('to');
  });

  it('given from after to, then to is rejected', () => {
    expect(parseRange({ from: '2026-02-01', to: '2026-01-01' }).issues).toEqual([
      expect.objectContaining({ field: 'to', rule: 'range' }),
    ]);
  });
});
