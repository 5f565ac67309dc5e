/**
 * Decisions that use the whole conversation: what a handoff is about when the
 * customer asks for a person, large disputes whatever the currency and with no
 * account, contracts and legal terms routed to their teams, and a shouting,
 * urgent customer locked out of their account.
 */
import { Priority } from '@support/contracts';
import {
  initialState,
  type ConversationState,
  type MessageView,
  type ProposalView,
  type ScoreView,
} from '@support/conversation';
import { buildBriefing } from './briefing';
import { NO_CONTEXT } from './context';
import { decide, loadDefaultPolicy, type Decision } from './decide';

const policy = loadDefaultPolicy();

const proposal = (over: Partial<ProposalView> = {}): ProposalView => ({
  replyId: 'r',
  text: 'Here is how',
  confidence: 0.95,
  intent: 'how_to',
  intentProbability: 0.9,
  topic: '',
  outOfScope: false,
  urgency: 0,
  requiredSkills: ['general'],
  kind: 'answer',
  missingDetails: [],
  generator: 'extractive',
  flags: [],
  citations: [],
  articlesTried: [],
  at: 't',
  ...over,
});
const calm: ScoreView = { valence: 0, label: 'neutral', signals: [], at: 't' };
const integration = {
  intent: 'technical_integration',
  topic: 'integrations',
  requiredSkills: ['technical'],
};

/** A conversation of customer messages, the earlier ones answered by the AI; the last one is decided. */
function conversation(...messages: Omit<MessageView, 'at'>[]): ConversationState {
  const views = messages.map((m, i) => ({
    ...m,
    at: `2026-05-01T10:0${i}:00Z`,
    ...(i < messages.length - 1 ? { decision: { kind: 'released' as const, at: 't' } } : {}),
  }));
  return {
    ...initialState('c1'),
    status: 'ai_handling',
    locale: 'en',
    messages: views,
    transcript: views.map((m) => ({ speaker: 'customer' as const, text: m.text, at: m.at })),
  };
}

const last = (s: ConversationState) => s.messages.at(-1)!.messageId;
const handoff = (d: Decision) => {
  if (d.kind !== 'handoff') throw new Error(`expected a handoff, got ${JSON.stringify(d)}`);
  return d;
};
const rules = (d: Decision) => handoff(d).triggers.map((t) => t.rule);

describe('a request for a person carries what the conversation was about', () => {
  const twoTurnsAboutAnIntegration = (ask: Omit<MessageView, 'at'>) =>
    conversation(
      {
        messageId: 'm1',
        text: 'Our bank feed stopped syncing yesterday',
        proposal: proposal(integration),
        score: calm,
      },
      {
        messageId: 'm2',
        text: 'It still shows the error after reconnecting',
        proposal: proposal(integration),
        score: calm,
      },
      ask,
    );

  it('given no proposal for the request within the short wait, takes the skills of the earlier turns', async () => {
    const state = twoTurnsAboutAnIntegration({
      messageId: 'm3',
      text: 'Can I talk to a real person please',
    });
    expect(await decide(state, 'm3', policy, false)).toEqual({ kind: 'wait', forMs: 1500 });
    const d = handoff(await decide(state, 'm3', policy, true));
    expect(rules(d)).toEqual(['explicit_human_request']);
    expect(d.requiredSkills).toEqual(['technical']);
    expect(d.missing).toContain('ai_proposal');
    const briefing = buildBriefing(state, 'm3', d, NO_CONTEXT, policy);
    expect(briefing).toMatchObject({ intent: 'technical_integration', topic: 'integrations' });
    expect(briefing.summary).toContain('About: technical integration, integrations');
    expect(briefing.summary).not.toMatch(/needs general/);
  });

  it('given the request’s own proposal only says "a person", looks past it to the conversation', async () => {
    const state = twoTurnsAboutAnIntegration({
      messageId: 'm3',
      text: 'Connect me with an agent now',
      proposal: proposal({ intent: 'human_request', kind: 'no_answer', topic: 'cards' }),
    });
    const d = handoff(await decide(state, 'm3', policy, false));
    expect(d.requiredSkills).toEqual(['technical']);
    expect(buildBriefing(state, 'm3', d, NO_CONTEXT, policy).intent).toBe('technical_integration');
  });

  it('given the request’s proposal arrives in time and names another subject, takes that one', async () => {
    const state = twoTurnsAboutAnIntegration({
      messageId: 'm3',
      text: 'I want to speak to a person about my invoice',
      proposal: proposal({ intent: 'billing', topic: 'billing', requiredSkills: ['billing'] }),
    });
    const d = handoff(await decide(state, 'm3', policy, false));
    expect(d.requiredSkills).toEqual(['billing']);
  });

  it('given a conversation that never named a subject, asks for a generalist', async () => {
    const state = conversation(
      { messageId: 'm1', text: 'hello', proposal: proposal({ intent: 'smalltalk' }), score: calm },
      { messageId: 'm2', text: 'I want to talk to a human' },
    );
    expect(handoff(await decide(state, 'm2', policy, true)).requiredSkills).toEqual(['general']);
  });

  it('given the AI never answered in time on a later turn, carries the subject too (ai_unavailable)', async () => {
    const state = twoTurnsAboutAnIntegration({
      messageId: 'm3',
      text: 'Any news on this?',
      score: calm,
    });
    const d = handoff(await decide(state, 'm3', policy, true));
    expect(rules(d)).toContain('ai_unavailable');
    expect(d.requiredSkills).toEqual(['technical']);
  });
});

describe('a disputed charge, whatever the currency format, with or without an account', () => {
  const disputing = (text: string) =>
    conversation({
      messageId: 'm1',
      text,
      proposal: proposal({ intent: 'billing', topic: 'billing', requiredSkills: ['billing'] }),
      score: calm,
    });

  it.each([
    'You took £3k from our card twice this month',
    'Duplicate charge: USD 1,200 on the 3rd and again on the 4th',
    'I was charged 2.5k USD but we never upgraded',
    'Sie haben 1 200,50 € doppelt abgebucht',
    'On nous a prélevé deux fois 1.900 €',
    'Fui cobrado duas vezes, R$ 3.000',
  ])('hands "%s" to billing though the AI had an answer and no account is known', async (text) => {
    const d = handoff(await decide(disputing(text), 'm1', policy, false, NO_CONTEXT));
    expect(rules(d)).toContain('billing_dispute');
    expect(d.requiredSkills[0]).toBe('billing');
    expect(d.triggers.find((t) => t.rule === 'billing_dispute')?.value).toBeGreaterThanOrEqual(500);
  });

  it('leaves a small disputed charge to the AI to explain', async () => {
    expect(
      await decide(disputing('You charged me twice, €45 each'), 'm1', policy, false, NO_CONTEXT),
    ).toEqual({ kind: 'release', missing: [] });
  });
});

describe('contracts, custom pricing, procurement and legal terms', () => {
  const asking = (text: string, over: Partial<ProposalView>) =>
    conversation({ messageId: 'm1', text, proposal: proposal(over), score: calm });

  it.each([
    ['We would like custom pricing for 300 seats, can we negotiate?', 'billing'],
    ['Please fill in our vendor security questionnaire before renewal', 'security'],
    ['Can you send the MSA so our team can add redlines?', 'contract_legal'],
    ['Our procurement needs a purchase order number on your quote', 'billing'],
  ])('routes "%s" (intent %s) to account management, contracts first', async (text, intent) => {
    const state = asking(text, { intent, requiredSkills: [intent === 'billing' ? 'billing' : ''] });
    const d = handoff(await decide(state, 'm1', policy, false));
    expect(d.team).toBe('Account Management');
    expect(d.requiredSkills[0]).toBe('contracts');
    expect(rules(d)).toContain('topic_risk');
  });

  it('routes legal terms to the legal team, even in a negotiation', async () => {
    const state = asking('Can we negotiate the limitation of liability in the contract?', {
      intent: 'contract_legal',
      requiredSkills: ['legal'],
    });
    const d = handoff(await decide(state, 'm1', policy, false));
    expect(d.team).toBe('Legal');
    expect(d.requiredSkills[0]).toBe('legal');
  });

  it('routes an explicit request for a person during a pricing talk to account management', async () => {
    const state = conversation(
      {
        messageId: 'm1',
        text: 'We need an enterprise quote',
        proposal: proposal({ intent: 'billing', requiredSkills: ['billing'] }),
        score: calm,
      },
      { messageId: 'm2', text: 'Let me talk to a person about a volume discount' },
    );
    const d = handoff(await decide(state, 'm2', policy, true));
    expect(d.team).toBe('Account Management');
    expect(d.requiredSkills).toEqual(['contracts', 'account_management', 'billing']);
  });
});

describe('a shouting, urgent customer locked out of their account', () => {
  const locked = (text: string, signals: string[]) =>
    conversation({
      messageId: 'm1',
      text,
      proposal: proposal({
        intent: 'account_access',
        requiredSkills: ['account'],
        confidence: 0.98,
      }),
      score: { valence: -0.3, label: 'negative', signals, at: 't' },
    });

  it('hands off as urgent though the AI was sure of its answer', async () => {
    const state = locked("I'M LOCKED OUT OF MY ACCOUNT AND NEED ACCESS NOW!!!", [
      'urgency',
      'shouting',
    ]);
    const d = handoff(await decide(state, last(state), policy, false));
    expect(rules(d)).toContain('urgent_lockout');
    expect(d.priority).toBe(Priority.URGENT);
    expect(d.requiredSkills).toEqual(expect.arrayContaining(['account', 'security']));
  });

  it('leaves a calm locked-out customer the AI’s confident answer', async () => {
    const state = locked('I am locked out of my account, how do I reset my password?', []);
    expect(await decide(state, last(state), policy, false)).toEqual({
      kind: 'release',
      missing: [],
    });
  });
});
