import type { SentenceEncoder } from '@support/encoder';
import { scoreMessage, type MessageScore } from '../domain/score';
import { emotionEncoder } from './scorer.service';

jest.setTimeout(60_000);

// Support messages written for this test (not from any data set).
const FRUSTRATED = [
  "This is the third time I'm asking. The export still doesn't work and nobody seems to care.",
  'I followed your steps exactly and it still fails with the same error. This is ridiculous.',
  "You charged my card twice this month and I still haven't got my refund. Unacceptable.",
  "I've been waiting for two days and my invoices are still broken. I'm really fed up.",
  "Your answer didn't help at all. Did you even read my question?",
  "I'm so annoyed, the sync failed again and I lost a whole day of work.",
  "That's not what I asked. Stop sending me the same useless article.",
  'WHY IS MY ACCOUNT STILL LOCKED? I NEED IT NOW',
];
const CALM = [
  'How do I download my invoices as PDF?',
  'Hi, can I change the email address on my account?',
  'Thanks, that worked perfectly!',
  'Where can I find the API keys for our workspace?',
  'Could you tell me which plan includes SSO?',
  "I'd like to add two more users to our team.",
  'What time zone are the reports in?',
];
const MILDLY_NEGATIVE = [
  "Hmm, that's a bit annoying, but I can wait until tomorrow.",
  'Unfortunately the page loads slowly for me.',
  "I'm a little confused by the new menu.",
  "The report looks slightly off, the totals don't match the dashboard.",
  "It's not a big deal, but the logo is blurry on invoices.",
];
/** The decider's single-message threshold (services/escalation-decider/policy/default.yaml). */
const FRUSTRATED_MESSAGE = 0.8;

/** Share of (frustrated, calm) pairs the score orders right: the area under the ROC curve. */
function auc(high: number[], low: number[]): number {
  let right = 0;
  for (const h of high) for (const l of low) right += h > l ? 1 : h === l ? 0.5 : 0;
  return right / (high.length * low.length);
}

describe('frustration with the real sentence encoder and the shipped emotion heads', () => {
  let encoder: SentenceEncoder;
  const score = async (texts: string[]): Promise<MessageScore[]> => {
    const vectors = await encoder.embed(texts);
    return texts.map((t, i) => scoreMessage(t, vectors[i]));
  };

  beforeAll(async () => {
    encoder = emotionEncoder();
  });

  it('given frustrated and calm support messages, then every frustrated one scores above every calm one', async () => {
    const [angry, calm] = await Promise.all([score(FRUSTRATED), score(CALM)]);
    const angryScores = angry.map((s) => s.frustration);
    const calmScores = calm.map((s) => s.frustration);
    expect(Math.min(...angryScores)).toBeGreaterThan(Math.max(...calmScores));
    expect(Math.min(...angryScores)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...calmScores)).toBeLessThan(0.3);
    // The learned part alone, before any support signal, already orders them mostly right.
    const learned = (list: MessageScore[]) => list.map((s) => s.emotions.frustration);
    expect(auc(learned(angry), learned(calm))).toBeGreaterThanOrEqual(0.85);
  });

  it('given mildly negative messages, then none reaches the single-message handoff threshold', async () => {
    const mild = await score(MILDLY_NEGATIVE);
    for (const s of mild) expect(s.frustration).toBeLessThan(FRUSTRATED_MESSAGE);
    expect(mild.filter((s) => s.signals.length > 0)).toEqual([]);
  });

  it('labels thanks positive and a complaint negative', async () => {
    const [thanks, complaint] = await score([
      'Thanks, that worked perfectly!',
      'I am extremely disappointed with how this has been handled.',
    ]);
    expect(thanks.label).toBe('positive');
    expect(complaint.label).toBe('negative');
    expect(complaint.emotions.ekmanLabels).toContain('sadness');
  });
});
