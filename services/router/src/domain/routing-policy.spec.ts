import { loadRoutingPolicy, parseRoutingPolicy, stepAt } from './routing-policy';

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
