import { backoffMs, webhookInputSchema } from './webhooks';

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
  it('takes an http(s) URL and subscribes to every record type by default', () => {
    expect(webhookInputSchema.parse({ url: 'https://desk.example.com/hooks' })).toEqual({
      url: 'https://desk.example.com/hooks',
      events: ['handoff.requested', 'handoff.assignment'],
      description: '',
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
  });
});
