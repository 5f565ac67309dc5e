import { initialState, type ConversationState } from '@support/conversation';
import { buildBriefing } from './briefing.js';
import type { DecisionContext } from './context.js';
import { decide } from './decide.js';
import type { Policy } from './policy.js';

/** A conversation of one message the AI answered, as decisions see it. */
function sample(text: string, intent: string): ConversationState {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    ...initialState('warm-up'),
    status: 'ai_handling',
    locale: 'en',
    messages: [
      {
        messageId: 'warm-up',
        text,
        at,
        proposal: {
          replyId: 'warm-up',
          text: 'Open Billing, then Invoices, and choose Download.',
          confidence: 0.5,
          intent,
          intentProbability: 0.5,
          topic: 'billing',
          outOfScope: false,
          urgency: 0,
          requiredSkills: [],
          kind: 'answer',
          missingDetails: [],
          generator: 'extractive',
          flags: [],
          citations: [],
          articlesTried: [],
          at,
        },
        score: { valence: -0.2, label: 'negative', signals: [], at },
      },
    ],
    transcript: [{ speaker: 'customer', text, at }],
  };
}

const SAMPLES = [
  ['I was charged twice for invoice INV-104233 ($49.00), I want a refund now.', 'billing'],
  ['This did not help. Can I talk to a person please?', 'human_request'],
];

/**
 * Decides sample conversations, and writes their briefings, twice each, before the first real
 * one: the lexicons' regular expressions (hundreds, in nine languages) are compiled when first
 * run and again when V8 tiers them up, which costs the first two messages after a start about a
 * quarter of a second each. Returns the time it took, in milliseconds.
 */
export async function warmUpDecisions(policy: Policy, context: DecisionContext): Promise<number> {
  const started = performance.now();
  for (let round = 0; round < 2; round++)
    for (const [text, intent] of SAMPLES) {
      // (a text of its own each round: the detector keeps its answers by text)
      const state = sample(`${text} ${round}`, intent);
      const decision = await decide(state, 'warm-up', policy, true, context);
      if (decision.kind === 'handoff') buildBriefing(state, 'warm-up', decision, context, policy);
    }
  return performance.now() - started;
}
