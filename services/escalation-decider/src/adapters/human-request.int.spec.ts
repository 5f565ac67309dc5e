/**
 * The layered detector with the real sentence encoder and the committed model,
 * on wording written for this test and absent from the corpus it was trained on.
 */
import { corpusExamples } from '../domain/human-request/corpus';
import type { HumanRequestDetector } from '../domain/human-request';
import { loadHumanRequestDetector, readCorpus } from './human-request';

/** English requests neither the lexicon nor the regex before it knows: the classifier's. */
const PARAPHRASES = [
  'is there any human being reading these messages who could help me',
  'please let a live representative take care of my problem',
  "I'm done typing to a machine, I want somebody real on my case",
  "honestly I'd prefer to explain this to somebody on your staff",
];

/** Requests the lexicon knows, in English and other languages. */
const WORDED = [
  { text: 'can you put me in touch with a real human, my card was charged twice', language: 'en' },
  { text: 'Könnten Sie mich bitte mit einem Ihrer Mitarbeiter verbinden?', language: 'de' },
  { text: "J'aimerais parler à un conseiller au sujet de ma facture", language: 'fr' },
];

/** Negations and near-misses: no request. */
const NOT_REQUESTS = [
  'No need for a person — how do I change my billing email?',
  "I'm not after a representative, just the link to the status page",
  "there's no need to bring in a human, I just want to know how to export my contacts",
  "please don't pass me on to an agent, what's the upload limit?",
  'Ich brauche keinen Mitarbeiter, sagen Sie mir nur, wo die Rechnungen sind.',
  'how do I add another agent seat to my subscription',
  "what's your support phone number",
  'the agent dashboard shows the wrong time zone',
];

let detect: HumanRequestDetector;

beforeAll(async () => {
  ({ detect } = await loadHumanRequestDetector());
});

describe('the human-request detector on the real encoder', () => {
  it('is tested on wording the corpus does not hold', () => {
    const corpus = new Set(corpusExamples(readCorpus()).map((e) => e.text.toLowerCase()));
    const here = [...PARAPHRASES, ...WORDED.map((w) => w.text), ...NOT_REQUESTS];
    expect(here.filter((t) => corpus.has(t.toLowerCase()))).toEqual([]);
  });

  it.each(PARAPHRASES)('hears a request for a person in "%s" (classifier)', async (text) => {
    const found = await detect(text);
    expect(found).toMatchObject({ layer: 'classifier', language: 'en' });
    expect(found!.probability).toBeGreaterThanOrEqual(found!.threshold);
  });

  it.each(WORDED)('hears "$text" (lexicon, $language)', async ({ text, language }) => {
    expect(await detect(text)).toMatchObject({ layer: 'lexicon', language });
  });

  it.each(NOT_REQUESTS)('hears no request in "%s"', async (text) => {
    expect(await detect(text)).toBeUndefined();
  });
});
