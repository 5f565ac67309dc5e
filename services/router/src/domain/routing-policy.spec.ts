import { acceptDeadline, loadRoutingPolicy, parseRoutingPolicy, stepAt } from './routing-policy';

describe('the routing policy as data', () => {
  const policy = loadRoutingPolicy();

  it('ships relaxation steps: specialists at once, then generalists, then anyone', () => {
    expect(policy.version).toMatch(/^routing-/);
    expect(policy.steps.map((s) => [s.name, s.afterSeconds, s.skills])).toEqual([
      ['specialist', 0, 'any'],
      ['generalist', 60, 'general'],
      ['anyone', 180, 'anyone'],
    ]);
  });

  it('relaxes a waiting handoff step by step as it waits', () => {
    expect(stepAt(policy, 0).name).toBe('specialist');
    expect(stepAt(policy, 59_999).name).toBe('specialist');
    expect(stepAt(policy, 60_000).name).toBe('generalist');
    expect(stepAt(policy, 179_000).name).toBe('generalist');
    expect(stepAt(policy, 3_600_000).name).toBe('anyone');
    // A clock a little behind the request's time counts as no wait.
    expect(stepAt(policy, -500).name).toBe('specialist');
  });

  it('rejects a policy whose steps do not start at once or do not increase, naming the problem', () => {
    const step = (afterSeconds: number) =>
      `  - { name: s${afterSeconds}, afterSeconds: ${afterSeconds}, skills: any }`;
    expect(() => parseRoutingPolicy(`version: v\nsteps:\n${step(10)}`)).toThrow(
      /steps: the first step must apply at once/,
    );
    expect(() => parseRoutingPolicy(`version: v\nsteps:\n${step(0)}\n${step(0)}`)).toThrow(
      /increasing afterSeconds/,
    );
    expect(() =>
      parseRoutingPolicy('version: v\nsteps:\n  - { name: a, afterSeconds: 0, skills: some }'),
    ).toThrow(/steps.0.skills/);
    expect(() => parseRoutingPolicy('version: [')).toThrow(/not valid YAML/);
  });
});

describe('the time an agent has to accept', () => {
  const steps = 'steps:\n  - { name: s, afterSeconds: 0, skills: any }';

  it('ships 60 seconds; a policy that does not say needs no acceptance', () => {
    expect(loadRoutingPolicy().acceptWithinSeconds).toBe(60);
    expect(parseRoutingPolicy(`version: v\n${steps}`).acceptWithinSeconds).toBe(0);
    expect(
      parseRoutingPolicy(`version: v\nacceptWithinSeconds: 2\n${steps}`).acceptWithinSeconds,
    ).toBe(2);
    expect(() => parseRoutingPolicy(`version: v\nacceptWithinSeconds: -1\n${steps}`)).toThrow(
      /acceptWithinSeconds/,
    );
    expect(() => parseRoutingPolicy(`version: v\nacceptWithinSeconds: 1.5\n${steps}`)).toThrow(
      /acceptWithinSeconds/,
    );
  });

  it('gives the deadline from the assignment, none when acceptance is not needed', () => {
    expect(acceptDeadline({ acceptWithinSeconds: 60 }, '2026-11-21T10:00:00.000Z')).toBe(
      '2026-11-21T10:01:00.000Z',
    );
    expect(acceptDeadline({ acceptWithinSeconds: 0 }, '2026-11-21T10:00:00.000Z')).toBe('');
    // An unreadable time counts from now.
    const now = Date.parse('2026-11-21T12:00:00.000Z');
    expect(acceptDeadline({ acceptWithinSeconds: 2 }, '', now)).toBe('2026-11-21T12:00:02.000Z');
  });
});
