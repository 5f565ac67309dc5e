import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialState, type ConversationState } from '@support/conversation';
import { buildBriefing } from './briefing';
import { NO_CONTEXT } from './context';
import { decide, loadDefaultPolicy } from './decide';
import {
  parsePolicy,
  teamForSkills,
  validatePolicyAgainstDirectory,
  type DirectoryVocabulary,
} from './policy';

const vocabulary: DirectoryVocabulary = {
  teams: [
    { name: 'Billing', skills: ['billing', 'refunds', 'retention'] },
    { name: 'Support', skills: ['general', 'account'] },
    { name: 'Technical', skills: ['technical', 'api'] },
  ],
  skills: ['general', 'account', 'billing', 'refunds', 'retention', 'technical', 'api'].map(
    (name) => ({ name }),
  ),
};

const policyWith = (rules: string) =>
  parsePolicy(`
version: itest
joinTimeoutMs: 1000
thresholds: { minConfidence: 0.9 }
rules:
${rules}`);

describe('the policy against the directory vocabulary', () => {
  it('given the shipped policy and the directory the router ships (routing/teams.json), then every name is known', () => {
    const shipped = JSON.parse(
      readFileSync(join(__dirname, '../../../router/routing/teams.json'), 'utf8'),
    ) as DirectoryVocabulary;
    const policy = loadDefaultPolicy().document;
    expect(validatePolicyAgainstDirectory(policy, shipped)).toEqual([]);
    // The rules that name a team: contracts to Account Management, legal terms to Legal.
    expect(
      Object.fromEntries(policy.rules.filter((r) => r.team).map((r) => [r.name, r.team])),
    ).toEqual({ route_legal: 'Legal', route_account_management: 'Account Management' });
  });

  it('given rules whose teams and skills the directory knows, then nothing is wrong', () => {
    const policy = policyWith(`
  - name: dispute
    detail: a disputed charge
    team: Billing
    skills: [billing, refunds]
    when: { all: [{ fact: disputeAmount, operator: greaterThan, value: 0 }] }
  - name: unsure
    detail: unsure
    skills: [general]
    when: { all: [{ fact: confidence, operator: lessThan, value: { threshold: minConfidence } }] }
`);
    expect(validatePolicyAgainstDirectory(policy.document, vocabulary)).toEqual([]);
  });

  it('given an unknown team or skill, then each issue names the rule, the field and the known names', () => {
    const policy = policyWith(`
  - name: unsure
    detail: unsure
    when: { all: [{ fact: confidence, operator: lessThan, value: 0.5 }] }
  - name: chargeback
    detail: a chargeback
    team: Payments
    skills: [billing, chargebacks]
    when: { all: [{ fact: disputeAmount, operator: greaterThan, value: 0 }] }
`);
    expect(validatePolicyAgainstDirectory(policy.document, vocabulary)).toEqual([
      {
        field: 'rules[chargeback].team',
        rule: 'unknown_team',
        policyRule: 'chargeback',
        message:
          'rule chargeback names team "Payments", which the directory does not know; known teams: Billing, Support, Technical',
      },
      {
        field: 'rules[chargeback].skills[1]',
        rule: 'unknown_skill',
        policyRule: 'chargeback',
        message: expect.stringMatching(
          /^rule chargeback names skill "chargebacks", which the directory does not know; known skills: account, api, billing/,
        ),
      },
    ]);
  });

  it('given a rule sending a skill to a team that does not cover it, then that is named too', () => {
    const policy = policyWith(`
  - name: outage
    detail: an outage
    team: Billing
    skills: [technical]
    when: { all: [{ fact: openIncidents, operator: greaterThan, value: 0 }] }
`);
    expect(validatePolicyAgainstDirectory(policy.document, vocabulary)).toEqual([
      expect.objectContaining({ field: 'rules[outage].skills[0]', rule: 'skill_not_in_team' }),
    ]);
  });

  it('given an empty directory, then every named team and skill is unknown', () => {
    const policy = policyWith(`
  - name: dispute
    detail: a disputed charge
    team: Billing
    skills: [billing]
    when: { all: [{ fact: disputeAmount, operator: greaterThan, value: 0 }] }
`);
    expect(
      validatePolicyAgainstDirectory(policy.document, { teams: [], skills: [] }).map((i) => i.rule),
    ).toEqual(['unknown_team', 'unknown_skill']);
  });
});

describe('the team a handoff is meant for', () => {
  it('is the team covering the most of the skills, the first skill breaking a tie', () => {
    expect(teamForSkills(['billing', 'refunds', 'general'], vocabulary)).toBe('Billing');
    expect(teamForSkills(['api', 'account'], vocabulary)).toBe('Technical');
    expect(teamForSkills(['account', 'api'], vocabulary)).toBe('Support');
    expect(teamForSkills(['general'], vocabulary)).toBe('Support');
  });

  it('is none when no team covers any of the skills, or nothing is known', () => {
    expect(teamForSkills(['payroll'], vocabulary)).toBe('');
    expect(teamForSkills(['billing'], { teams: [], skills: [] })).toBe('');
    expect(teamForSkills([], vocabulary)).toBe('');
  });

  it('given a fired rule that names a team, the decision carries it and the briefing says it', async () => {
    const policy = policyWith(`
  - name: unsure
    detail: the AI is unsure
    when: { all: [{ fact: confidence, operator: lessThan, value: 0.5 }] }
  - name: dispute
    detail: a disputed charge
    team: Billing
    skills: [billing]
    when: { all: [{ fact: disputeAmount, operator: greaterThan, value: 0 }] }
`);
    const state: ConversationState = {
      ...initialState('c1'),
      status: 'ai_handling',
      locale: 'en',
      messages: [
        {
          messageId: 'm1',
          text: 'I dispute the charge of €800 on INV-9',
          at: 't1',
          score: { valence: -0.2, label: 'negative', signals: [], at: 't1' },
          proposal: {
            replyId: 'r1',
            text: 'Here is how',
            confidence: 0.3,
            intent: 'billing',
            intentProbability: 0.9,
            topic: 'billing',
            outOfScope: false,
            urgency: 0,
            requiredSkills: ['billing'],
            kind: 'answer',
            missingDetails: [],
            generator: 'extractive',
            flags: [],
            citations: [],
            articlesTried: [],
            at: 't1',
          },
        },
      ],
      transcript: [
        { speaker: 'customer', text: 'I dispute the charge of €800 on INV-9', at: 't1' },
      ],
    };
    const decision = await decide(state, 'm1', policy, false, NO_CONTEXT);
    expect(decision).toEqual(expect.objectContaining({ kind: 'handoff', team: 'Billing' }));
    if (decision.kind !== 'handoff') throw new Error('expected a handoff');
    expect(buildBriefing(state, 'm1', decision, NO_CONTEXT, policy).summary).toContain(
      'for team Billing;',
    );

    const unsureOnly = policyWith(`
  - name: unsure
    detail: the AI is unsure
    when: { all: [{ fact: confidence, operator: lessThan, value: 0.5 }] }
`);
    expect(await decide(state, 'm1', unsureOnly, false, NO_CONTEXT)).toEqual(
      expect.objectContaining({ kind: 'handoff', team: '' }),
    );
  });
});
