import {
  agentVocabularyIssues,
  teamInputSchema,
  teamVocabularyIssues,
  type Vocabulary,
} from './vocabulary';

const vocabulary: Vocabulary = {
  skills: ['general', 'billing', 'refunds', 'technical'].map((name) => ({ name, description: '' })),
  teams: [
    { name: 'Billing', description: '', skills: ['billing', 'refunds'] },
    { name: 'Support', description: '', skills: ['general'] },
  ],
};

describe('the directory vocabulary', () => {
  it('given known names, when an agent is checked, then nothing is wrong', () => {
    expect(
      agentVocabularyIssues(vocabulary, { team: 'Billing', skills: ['billing', 'general'] }),
    ).toEqual([]);
  });

  it('given an unknown team, then the issue names the field, the team and the known teams', () => {
    expect(agentVocabularyIssues(vocabulary, { team: 'Sales', skills: [] })).toEqual([
      {
        field: 'team',
        rule: 'unknown_team',
        message: expect.stringMatching(/unknown team "Sales"; known teams: Billing, Support/),
      },
    ]);
  });

  it('given unknown skills, then each is named at its place as the request wrote it, with the known skills', () => {
    const issues = agentVocabularyIssues(
      vocabulary,
      { team: 'Support', skills: ['general', 'chargebacks', 'legal'] },
      ['general', { name: 'chargebacks', level: 5 }, 'legal'],
    );
    expect(issues.map((i) => [i.field, i.rule])).toEqual([
      ['skills[1].name', 'unknown_skill'],
      ['skills[2]', 'unknown_skill'],
    ]);
    expect(issues[0].message).toContain(
      'unknown skill "chargebacks"; known skills: billing, general, refunds, technical',
    );
  });

  it('given a team that covers an unknown skill, then the skill is named', () => {
    expect(teamVocabularyIssues(vocabulary, { skills: ['billing', 'payroll'] })).toEqual([
      expect.objectContaining({ field: 'skills[1]', rule: 'unknown_skill' }),
    ]);
  });

  it('given an empty vocabulary, then the message says nothing is known yet', () => {
    expect(
      agentVocabularyIssues({ teams: [], skills: [] }, { team: 'Support', skills: [] })[0].message,
    ).toContain('known teams: (none yet)');
  });

  it('takes a team as a description and the skills it covers, lower-cased, each once', () => {
    expect(teamInputSchema.parse({})).toEqual({ description: '', skills: [] });
    expect(teamInputSchema.parse({ skills: [' Billing', 'refunds'] })).toEqual({
      description: '',
      skills: ['billing', 'refunds'],
    });
    expect(teamInputSchema.safeParse({ skills: ['billing', 'BILLING'] }).success).toBe(false);
    expect(teamInputSchema.safeParse({ description: 'x', lead: 'y' }).success).toBe(false);
  });
});
