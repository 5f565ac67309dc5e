import { chooseAgent, qualifiedAgents, rankAgents, speaks, type AgentProfile } from './routing';

const agent = (
  id: string,
  skills: string[],
  languages: string[],
  maxConcurrent = 2,
  active = true,
): AgentProfile => ({
  id,
  name: id.toUpperCase(),
  team: 'Team',
  skills,
  languages,
  maxConcurrent,
  active,
});

const roster = [
  agent('ann', ['general', 'account'], ['en', 'de']),
  agent('bob', ['billing', 'general'], ['en', 'es']),
  agent('cid', ['billing', 'refunds'], ['en']),
  agent('dee', ['technical'], ['fr']),
];
const loads = (entries: Record<string, number> = {}) => new Map(Object.entries(entries));

describe('choosing an agent', () => {
  it('given idle agents, when a billing handoff arrives, then a billing agent is chosen', () => {
    expect(chooseAgent(roster, { requiredSkills: ['billing'], language: 'en' }, loads())?.id).toBe(
      'bob',
    );
  });

  it('given two equally good matches, when one is busier, then the least loaded one is chosen', () => {
    expect(
      chooseAgent(roster, { requiredSkills: ['billing'], language: 'en' }, loads({ bob: 1 }))?.id,
    ).toBe('cid');
  });

  it('given an agent covering more of the required skills, then that agent wins even when busier', () => {
    const chosen = chooseAgent(
      roster,
      { requiredSkills: ['billing', 'refunds'], language: 'en' },
      loads({ cid: 1 }),
    );
    expect(chosen?.id).toBe('cid');
  });

  it('given equal skills, when only one speaks the customer language, then that one wins', () => {
    expect(
      chooseAgent(roster, { requiredSkills: ['billing'], language: 'es-MX' }, loads({ bob: 1 }))
        ?.id,
    ).toBe('bob');
  });

  it('given every skilled agent at capacity, then nobody is chosen (the handoff waits)', () => {
    expect(
      chooseAgent(
        roster,
        { requiredSkills: ['billing'], language: 'en' },
        loads({ bob: 2, cid: 2 }),
      ),
    ).toBeUndefined();
  });

  it('given a handoff without skills, then it goes to a general agent', () => {
    expect(
      rankAgents(roster, { requiredSkills: [], language: '' }, loads()).map((a) => a.id),
    ).toEqual(['ann', 'bob']);
  });

  it('given a skill nobody on the roster has, then the general agents take it', () => {
    expect(
      qualifiedAgents(roster, { requiredSkills: ['astrology'], language: 'en' }).map((a) => a.id),
    ).toEqual(['ann', 'bob']);
  });

  it('given inactive agents, then they are never chosen', () => {
    const off = [agent('eve', ['billing'], ['en'], 5, false), agent('fay', ['billing'], ['en'], 0)];
    expect(
      chooseAgent(off, { requiredSkills: ['billing'], language: 'en' }, loads()),
    ).toBeUndefined();
  });

  it('matches languages by their primary subtag, and an unknown language matches everyone', () => {
    expect(speaks(roster[0]!, 'DE-at')).toBe(true);
    expect(speaks(roster[3]!, 'en')).toBe(false);
    expect(speaks(roster[3]!, '')).toBe(true);
  });

  it('ranks deterministically by id when everything else is equal', () => {
    const twins = [agent('zed', ['x'], ['en']), agent('amy', ['x'], ['en'])];
    expect(
      rankAgents(twins, { requiredSkills: ['x'], language: 'en' }, loads()).map((a) => a.id),
    ).toEqual(['amy', 'zed']);
  });
});
