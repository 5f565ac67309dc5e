import type { AgentProfile, HandoffNeeds } from './routing';
import {
  contactIn,
  estimateWaitSeconds,
  expectedTeam,
  nextHandleAverage,
  qualifiedCapacity,
  updateNumber,
} from './waiting';

const agent = (
  id: string,
  team: string,
  skills: string[],
  maxConcurrent = 2,
  fields: Partial<AgentProfile> = {},
): AgentProfile => ({
  id,
  name: id,
  team,
  skills,
  languages: ['en'],
  maxConcurrent,
  active: true,
  ...fields,
});

const needs = (requiredSkills: string[], language = 'en'): HandoffNeeds => ({
  requiredSkills,
  language,
});

describe('estimateWaitSeconds', () => {
  it('shares the handoffs up to and including this one among the capacity, each taking the average', () => {
    expect(estimateWaitSeconds(1, 1, 480)).toBe(480);
    expect(estimateWaitSeconds(3, 2, 480)).toBe(720);
    expect(estimateWaitSeconds(4, 4, 300)).toBe(300);
    expect(estimateWaitSeconds(1, 3, 100)).toBe(33);
    expect(estimateWaitSeconds(2, 3, 100)).toBe(67);
  });

  it('treats no capacity (nobody qualified, or off hours) as one', () => {
    expect(estimateWaitSeconds(2, 0, 480)).toBe(960);
    expect(estimateWaitSeconds(2, -3, 480)).toBe(960);
  });

  it('counts a position below 1 as next in line and a negative average as none', () => {
    expect(estimateWaitSeconds(0, 1, 480)).toBe(480);
    expect(estimateWaitSeconds(-2, 1, 480)).toBe(480);
    expect(estimateWaitSeconds(5, 1, -10)).toBe(0);
  });
});

describe('qualifiedCapacity', () => {
  const roster = [
    agent('ann', 'Billing', ['billing'], 3),
    agent('bob', 'Billing', ['billing', 'refunds'], 2),
    agent('cid', 'Support', ['general'], 4),
    agent('dee', 'Tech', ['technical'], 5),
    agent('eve', 'Billing', ['billing'], 6, { active: false }),
    agent('fay', 'Billing', ['billing'], 0),
  ];

  it('adds up what the agents with one of the skills, or the general skill, can hold', () => {
    expect(qualifiedCapacity(roster, needs(['billing']))).toBe(3 + 2 + 4);
    expect(qualifiedCapacity(roster, needs(['technical']))).toBe(5 + 4);
  });

  it('is 0 when nobody qualifies', () => {
    expect(qualifiedCapacity([agent('dee', 'Tech', ['technical'])], needs(['billing']))).toBe(0);
    expect(qualifiedCapacity([], needs(['billing']))).toBe(0);
  });
});

describe('expectedTeam', () => {
  it('is the team of the agents who have the skill, not of the generalists', () => {
    const roster = [
      agent('ann', 'Billing', ['billing']),
      agent('g1', 'Support', ['general']),
      agent('g2', 'Support', ['general']),
      agent('g3', 'Support', ['general']),
    ];
    expect(expectedTeam(roster, needs(['billing']))).toBe('Billing');
    expect(expectedTeam(roster, needs([' Billing ']))).toBe('Billing');
  });

  it('takes the team most of the skilled agents are in', () => {
    const roster = [
      agent('a', 'Alpha', ['billing']),
      agent('b', 'Zulu', ['billing']),
      agent('c', 'Zulu', ['refunds']),
    ];
    expect(expectedTeam(roster, needs(['billing', 'refunds']))).toBe('Zulu');
  });

  it('is the team the handoff is meant for when one of its agents qualifies', () => {
    const roster = [
      agent('a', 'Support', ['billing']),
      agent('b', 'Support', ['billing']),
      agent('c', 'Billing', ['billing']),
    ];
    expect(expectedTeam(roster, { ...needs(['billing']), team: 'Billing' })).toBe('Billing');
    expect(expectedTeam(roster, { ...needs(['billing']), team: 'Legal' })).toBe('Support');
  });

  it('breaks a tie by the team name', () => {
    const roster = [
      agent('a', 'Zulu', ['billing']),
      agent('b', 'Alpha', ['billing']),
      agent('c', 'Mike', ['billing']),
    ];
    expect(expectedTeam(roster, needs(['billing']))).toBe('Alpha');
    expect(expectedTeam([...roster].reverse(), needs(['billing']))).toBe('Alpha');
  });

  it('falls back to the generalists when nobody has the skill, and to "" when nobody qualifies', () => {
    const roster = [agent('g1', 'Support', ['general']), agent('t', 'Tech', ['technical'])];
    expect(expectedTeam(roster, needs(['billing']))).toBe('Support');
    expect(expectedTeam([agent('t', 'Tech', ['technical'])], needs(['billing']))).toBe('');
    expect(expectedTeam([], needs(['billing']))).toBe('');
  });

  it('ignores inactive agents and agents who take no conversations', () => {
    const roster = [
      agent('a', 'Alpha', ['billing'], 2, { active: false }),
      agent('b', 'Beta', ['billing'], 0),
      agent('c', 'Gamma', ['billing']),
    ];
    expect(expectedTeam(roster, needs(['billing']))).toBe('Gamma');
  });
});

describe('nextHandleAverage', () => {
  it('starts at the first sample', () => {
    expect(nextHandleAverage(undefined, 300)).toBe(300);
    expect(nextHandleAverage(Number.NaN, 300)).toBe(300);
  });

  it('moves a fifth of the way towards each new sample', () => {
    expect(nextHandleAverage(300, 800)).toBe(400);
    expect(nextHandleAverage(400, 100)).toBe(340);
    expect(nextHandleAverage(500, 500)).toBe(500);
  });

  it('ignores samples that are not a positive duration', () => {
    expect(nextHandleAverage(300, 0)).toBe(300);
    expect(nextHandleAverage(300, -5)).toBe(300);
    expect(nextHandleAverage(300, Number.NaN)).toBe(300);
    expect(nextHandleAverage(300, Number.POSITIVE_INFINITY)).toBe(300);
    expect(nextHandleAverage(undefined, 0)).toBe(0);
  });
});

describe('updateNumber', () => {
  it('counts the whole intervals waited', () => {
    expect(updateNumber(0, 60)).toBe(0);
    expect(updateNumber(59_999, 60)).toBe(0);
    expect(updateNumber(60_000, 60)).toBe(1);
    expect(updateNumber(119_999, 60)).toBe(1);
    expect(updateNumber(120_000, 60)).toBe(2);
    expect(updateNumber(5_000, 2)).toBe(2);
  });

  it('is 0 when updates are off, and for a clock that went backwards', () => {
    expect(updateNumber(600_000, 0)).toBe(0);
    expect(updateNumber(-5_000, 60)).toBe(0);
  });
});

describe('contactIn', () => {
  it('finds the first e-mail address in what the customer wrote', () => {
    expect(contactIn('you can reach me at ana.lopez+support@mail.example.com, thanks')).toBe(
      'ana.lopez+support@mail.example.com',
    );
    expect(contactIn('ana@example.com or bob@example.org')).toBe('ana@example.com');
    expect(contactIn('Meine Adresse: jonas_k@firma-x.de.')).toBe('jonas_k@firma-x.de');
  });

  it('is "" when there is none', () => {
    expect(contactIn('call me tomorrow')).toBe('');
    expect(contactIn('ana@localhost')).toBe('');
    expect(contactIn('@example.com')).toBe('');
    expect(contactIn('')).toBe('');
  });
});
