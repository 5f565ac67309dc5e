import { labelOf, scoreMessage, valenceOf } from './score';
import { isShouting, signalsOf } from './signals';

describe('scoreMessage', () => {
  it('given a thankful message, when scored, then it is positive with no signals', () => {
    const s = scoreMessage('Thanks a lot, that worked great!');
    expect(s.valence).toBeGreaterThan(0.5);
    expect(s.label).toBe('positive');
    expect(s.signals).toEqual([]);
  });

  it('given a plain question, when scored, then it is neutral', () => {
    expect(scoreMessage('How do I download my invoices?')).toEqual({
      valence: 0,
      label: 'neutral',
      signals: [],
    });
  });

  it('given a repeated complaint, when scored, then it is negative and frustrated', () => {
    const s = scoreMessage('This is the third time I ask, still not working. Useless!');
    expect(s.label).toBe('negative');
    expect(s.valence).toBeLessThan(-0.1);
    expect(s.signals).toEqual(['frustration']);
  });

  it('given an outage, when scored, then it is urgent', () => {
    expect(
      scoreMessage('URGENT: production is down and we cannot send invoices, please help asap')
        .signals,
    ).toContain('urgency');
    expect(signalsOf('I need this fixed right now')).toEqual(['urgency']);
    expect(signalsOf('We need access now, payroll runs at noon')).toEqual(['urgency']);
  });

  it.each([
    'Bitte dringend helfen, wir kommen nicht ins Konto',
    "C'est une urgence, je n'arrive plus à me connecter",
    'Necesito acceso inmediatamente',
    'Serve subito, non riesco ad accedere',
    'Graag meteen helpen, ik kan niet inloggen',
    'Preciso disso imediatamente',
  ])('given urgent wording in another language, when scored, then it is urgent: "%s"', (text) => {
    expect(signalsOf(text)).toContain('urgency');
  });

  it('given a customer who threatens to leave, when scored, then it is a churn threat', () => {
    expect(signalsOf('If this is not fixed today I will cancel my subscription')).toEqual([
      'churn_threat',
    ]);
    expect(signalsOf("We're switching to Xero next month")).toEqual(['churn_threat']);
    expect(signalsOf('Please close my account')).toEqual(['churn_threat']);
  });

  it('given plan changes that are not churn, when scored, then there is no churn threat', () => {
    expect(signalsOf('Can I switch to yearly billing?')).toEqual([]);
    expect(signalsOf('We are switching to the Scale plan')).toEqual([]);
  });

  it('given capitals and swearing, when scored, then shouting and profanity are flagged', () => {
    const s = scoreMessage('WHY IS MY INVOICE STILL WRONG, this is bullshit');
    expect(s.signals).toEqual(['shouting', 'profanity']);
    expect(s.label).toBe('negative');
  });

  it('keeps the valence within -1..1', () => {
    const v = valenceOf('I hate this, horrible, awful, terrible, worst ever!!! '.repeat(20));
    expect(v).toBeGreaterThanOrEqual(-1);
    expect(v).toBeLessThan(-0.5);
    expect(valenceOf('')).toBe(0);
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
