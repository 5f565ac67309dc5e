import { labelOf, scoreMessage, valenceOf } from './score';
import { isShouting, signalsOf } from './signals';
import { ANGRY, CALM, testModel } from './test-model';

const model = testModel();

describe('scoreMessage', () => {
  it('given a thankful message, when scored, then its valence is positive with no signals', () => {
    const s = scoreMessage('Thanks a lot, that worked great!', CALM, model);
    expect(s.valence).toBeGreaterThan(0.5);
    expect(labelOf(s.valence)).toBe('positive');
    expect(s.signals).toEqual([]);
    // VADER's positive share goes into the learned head too.
    expect(s.label).toBe('positive');
  });

  it('given a plain question and a calm vector, when scored, then it is neutral and hardly frustrated', () => {
    const s = scoreMessage('How do I download my invoices?', CALM, model);
    expect(s).toMatchObject({ valence: 0, label: 'neutral', signals: [] });
    expect(s.frustration).toBe(s.emotions.frustration);
    expect(s.frustration).toBeLessThan(0.15);
  });

  it('given a repeated complaint, when scored, then frustration combines the learned score with the signals', () => {
    const s = scoreMessage(
      'This is the third time I ask, still not working. Useless!',
      ANGRY,
      model,
    );
    expect(s.label).toBe('negative');
    expect(s.valence).toBeLessThan(-0.1);
    expect(s.signals).toEqual(['frustration', 'still_failing']);
    const learned = s.emotions.frustration;
    expect(s.frustration).toBeCloseTo(1 - (1 - learned) * (1 - 0.6) * (1 - 0.5), 3);
  });

  it('given the same words, when the vector says calm, then only the signals raise the frustration', () => {
    const calm = scoreMessage('This is the third time I ask, still not working.', CALM, model);
    const angry = scoreMessage('This is the third time I ask, still not working.', ANGRY, model);
    expect(calm.frustration).toBeLessThan(angry.frustration);
    expect(calm.frustration).toBeGreaterThan(calm.emotions.frustration);
  });

  it('refuses a vector of another encoder size', () => {
    expect(() => scoreMessage('hello', [1, 0, 0], model)).toThrow(/sentence vector/);
  });

  it('keeps the valence within -1..1', () => {
    const v = valenceOf('I hate this, horrible, awful, terrible, worst ever!!! '.repeat(20));
    expect(v).toBeGreaterThanOrEqual(-1);
    expect(v).toBeLessThan(-0.5);
    expect(valenceOf('')).toBe(0);
  });
});

describe('signalsOf', () => {
  it('given an outage, then it is urgent', () => {
    expect(
      signalsOf('URGENT: production is down and we cannot send invoices, please help asap'),
    ).toContain('urgency');
    expect(signalsOf('I need this fixed right now')).toEqual(['urgency']);
    expect(signalsOf("I pay for this and it's been down all morning")).toEqual(['urgency']);
    expect(signalsOf('We need access now, payroll runs at noon')).toEqual(['urgency']);
  });

  it.each([
    'Bitte dringend helfen, wir kommen nicht ins Konto',
    "C'est une urgence, je n'arrive plus à me connecter",
    'Necesito acceso inmediatamente',
    'Serve subito, non riesco ad accedere',
    'Graag meteen helpen, ik kan niet inloggen',
    'Preciso disso imediatamente',
  ])('given urgent wording in another language, then it is urgent: "%s"', (text) => {
    expect(signalsOf(text)).toContain('urgency');
  });

  it('given a customer who threatens to leave, then it is a churn threat', () => {
    expect(signalsOf('If this is not fixed today I will cancel my subscription')).toEqual([
      'churn_threat',
    ]);
    expect(signalsOf("We're switching to Xero next month")).toEqual(['churn_threat']);
    expect(signalsOf('Please close my account')).toEqual(['churn_threat']);
  });

  it('given plan changes that are not churn, then there is no churn threat', () => {
    expect(signalsOf('Can I switch to yearly billing?')).toEqual([]);
    expect(signalsOf('We are switching to the Scale plan')).toEqual([]);
  });

  it('given capitals and swearing, then shouting and profanity are flagged', () => {
    expect(signalsOf('WHY IS MY INVOICE WRONG AGAIN, this is bullshit')).toEqual([
      'shouting',
      'profanity',
    ]);
  });

  it('given the customer says they are frustrated, in their words, then frustration is flagged', () => {
    for (const text of [
      'I have asked the same thing three times now!',
      'Did you even read my message?',
      'This is a waste of my time',
    ])
      expect(signalsOf(text)).toContain('frustration');
  });

  it('given a fix that did not fix it, then still_failing is flagged', () => {
    for (const text of [
      'I followed your steps and it still fails with the same error',
      'The sync failed again this morning',
      'I still get the same error',
      'Still the same error.',
      "That didn't help",
      'It keeps crashing when I open reports',
      'My account is still locked',
      'I tried that and no luck',
    ])
      expect(signalsOf(text)).toContain('still_failing');
  });

  it('given money or work lost, then money_lost is flagged', () => {
    for (const text of [
      'You charged me twice for March',
      'I was double charged',
      'We are losing sales every hour the checkout is broken',
      "I still haven't received my refund",
      'There is an unexpected charge on my card',
      'I lost a whole day of work',
    ])
      expect(signalsOf(text)).toContain('money_lost');
  });

  it('given calm or merely negative support messages, then none of these is flagged', () => {
    for (const text of [
      'How do I download my invoices as PDF?',
      'Is there a way to export expenses to CSV?',
      'Unfortunately the page loads slowly for me.',
      "I'm a little confused by the new menu.",
      'Sadly I missed the webinar, is there a recording?',
      'Can I get a refund for the unused months?',
      'The logo is a bit blurry on invoices.',
      'Thanks, it works now!',
    ])
      expect(signalsOf(text)).toEqual([]);
  });
});

describe('labelOf', () => {
  it('puts the neutral band at ±0.05', () => {
    expect(labelOf(-0.05)).toBe('negative');
    expect(labelOf(-0.049)).toBe('neutral');
    expect(labelOf(0.049)).toBe('neutral');
    expect(labelOf(0.05)).toBe('positive');
  });
});

describe('isShouting', () => {
  it('needs at least three capital words, mostly capitals', () => {
    expect(isShouting('THIS IS BROKEN')).toBe(true);
    expect(isShouting('HELP ME')).toBe(false);
    expect(isShouting('I need API and SSO help with SAML')).toBe(false);
    expect(isShouting('ok')).toBe(false);
  });
});
