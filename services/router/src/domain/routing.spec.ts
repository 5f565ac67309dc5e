import {
  assignmentReason,
  chooseAgent,
  qualifiedAgents,
  rankAgents,
  speaks,
  type AgentProfile,
} from './routing';
import type { RoutingStep } from './routing-policy';

const step = (skills: RoutingStep['skills']): RoutingStep => ({
  name: `s-${skills}`,
  afterSeconds: 0,
  skills,
  minLevel: 1,
  language: 'preferred',
});

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

  it('given every skilled agent at capacity, then no specialist is chosen (the handoff waits), until the generalist step', () => {
    const busy = loads({ bob: 2, cid: 2 });
    const needs = { requiredSkills: ['billing'], language: 'en' };
    expect(chooseAgent(roster, needs, busy, step('any'))).toBeUndefined();
    expect(chooseAgent(roster, needs, busy, step('general'))?.id).toBe('ann');
    expect(chooseAgent(roster, needs, busy, step('anyone'))?.id).toBe('ann');
  });

  it('given a step that needs every skill, then only agents with all of them qualify', () => {
    const needs = { requiredSkills: ['billing', 'refunds'], language: 'en' };
    expect(qualifiedAgents(roster, needs, step('all')).map((a) => a.id)).toEqual(['cid']);
    expect(qualifiedAgents(roster, needs, step('any')).map((a) => a.id)).toEqual(['bob', 'cid']);
  });

  it('given a minimum level or a required language, then agents below it or without it do not qualify', () => {
    const pair = [
      { ...agent('low', ['billing'], ['en']), skillLevels: { billing: 2 } },
      { ...agent('high', ['billing'], ['de']), skillLevels: { billing: 5 } },
    ];
    const needs = { requiredSkills: ['billing'], language: 'en' };
    expect(qualifiedAgents(pair, needs, { ...step('any'), minLevel: 3 }).map((a) => a.id)).toEqual([
      'high',
    ]);
    expect(
      qualifiedAgents(pair, needs, { ...step('any'), language: 'required' }).map((a) => a.id),
    ).toEqual(['low']);
  });

  it('says why an agent was chosen: the step, skills with levels, language and load', () => {
    const bob = roster.find((a) => a.id === 'bob')!;
    expect(
      assignmentReason(
        bob,
        { requiredSkills: ['billing'], language: 'es' },
        loads({ bob: 1 }),
        step('any'),
        2,
      ),
    ).toBe(
      'step s-any (any skills): has billing (level 3); speaks es; load 1/2; best of 2 with room',
    );
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

describe('skill levels in the ranking', () => {
  const leveled = (id: string, skillLevels: Record<string, number>, languages = ['en']) => ({
    ...agent(id, Object.keys(skillLevels), languages),
    skillLevels,
  });
  const rank = (list: AgentProfile[], requiredSkills: string[], language = 'en', load = {}) =>
    rankAgents(list, { requiredSkills, language }, loads(load)).map((a) => a.id);

  it('given the same skills, language and load, then the higher level on the required skill ranks first', () => {
    // By id alone "amy" would come first.
    const pair = [leveled('amy', { billing: 2 }), leveled('zed', { billing: 5 })];
    expect(rank(pair, ['billing'])).toEqual(['zed', 'amy']);
    expect(chooseAgent(pair, { requiredSkills: ['Billing'], language: 'en' }, loads())?.id).toBe(
      'zed',
    );
  });

  it('counts a skill without a level as level 3', () => {
    const plain = agent('amy', ['billing'], ['en']);
    expect(rank([plain, leveled('zed', { billing: 2 })], ['billing'])).toEqual(['amy', 'zed']);
    expect(rank([plain, leveled('zed', { billing: 4 })], ['billing'])).toEqual(['zed', 'amy']);
  });

  it('weighs only the levels of the skills the handoff asks for', () => {
    const pair = [
      leveled('amy', { billing: 1, refunds: 5 }),
      leveled('zed', { billing: 2, refunds: 1 }),
    ];
    expect(rank(pair, ['billing'])).toEqual(['zed', 'amy']);
    expect(rank(pair, ['refunds'])).toEqual(['amy', 'zed']);
  });

  it('does not let a higher level beat covering more of the required skills', () => {
    const pair = [leveled('amy', { billing: 5 }), leveled('zed', { billing: 1, refunds: 1 })];
    expect(rank(pair, ['billing', 'refunds'])).toEqual(['zed', 'amy']);
  });

  it('does not let a higher level beat speaking the customer language', () => {
    const pair = [leveled('amy', { billing: 5 }, ['en']), leveled('zed', { billing: 1 }, ['es'])];
    expect(rank(pair, ['billing'], 'es')).toEqual(['zed', 'amy']);
  });

  it('prefers the higher level before the lower load, and skips an expert at capacity', () => {
    const pair = [leveled('amy', { billing: 2 }), leveled('zed', { billing: 5 })];
    expect(rank(pair, ['billing'], 'en', { zed: 1 })).toEqual(['zed', 'amy']);
    expect(rank(pair, ['billing'], 'en', { zed: 2 })).toEqual(['amy']);
  });
});

describe('agents who passed on a handoff', () => {
  it('given agents who declined or let it time out, then they are never offered it again, even when idle and the best match', () => {
    const needs = { requiredSkills: ['billing'], language: 'en' };
    expect(rankAgents(roster, needs, loads(), step('any')).map((a) => a.id)).toEqual([
      'bob',
      'cid',
    ]);
    expect(
      rankAgents(roster, { ...needs, passedBy: ['bob'] }, loads(), step('any')).map((a) => a.id),
    ).toEqual(['cid']);
    expect(
      rankAgents(roster, { ...needs, passedBy: ['bob', 'cid'] }, loads(), step('any')),
    ).toEqual([]);
    // Not at any step either: who passed is out whatever the relaxation.
    expect(
      qualifiedAgents(roster, { ...needs, passedBy: ['bob', 'cid'] }, step('anyone')).map(
        (a) => a.id,
      ),
    ).toEqual(['ann', 'dee']);
  });
});

describe('the team a handoff is meant for', () => {
  const teams = [
    { ...agent('sam', ['billing', 'refunds'], ['en']), team: 'Support' },
    { ...agent('bea', ['billing'], ['en']), team: 'Billing' },
  ];

  it('given a handoff for a team, then its agent ranks first even with fewer skills covered', () => {
    const needs = { requiredSkills: ['billing', 'refunds'], language: 'en', team: 'Billing' };
    expect(rankAgents(teams, needs, loads()).map((a) => a.id)).toEqual(['bea', 'sam']);
    expect(assignmentReason(teams[1], needs, loads(), step('any'), 2)).toContain(
      'in team Billing, as asked',
    );
  });

  it('given no team, then the skills decide as before', () => {
    const needs = { requiredSkills: ['billing', 'refunds'], language: 'en' };
    expect(rankAgents(teams, needs, loads()).map((a) => a.id)).toEqual(['sam', 'bea']);
  });

  it('given a team whose agents do not qualify at this step, then others still do', () => {
    const needs = { requiredSkills: ['refunds'], language: 'en', team: 'Billing' };
    expect(rankAgents(teams, needs, loads(), step('any')).map((a) => a.id)).toEqual(['sam']);
  });
});
