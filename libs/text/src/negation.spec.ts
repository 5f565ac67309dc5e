import { removeNegated } from './negation';

describe('removeNegated', () => {
  it('takes the negated clause out and keeps the rest', () => {
    const { rest, negations } = removeNegated(
      'no need for a human, just tell me how to reset my password',
    );
    expect(rest).toBe('just tell me how to reset my password');
    expect(negations).toEqual([{ language: 'en', phrase: 'no need for a human' }]);
  });

  it('leaves a text without a negation as it is', () => {
    const text = 'I want to talk to a human';
    expect(removeNegated(text)).toEqual({ rest: text, negations: [] });
  });

  it('does not take a negation of the bot for one of the person', () => {
    for (const text of [
      "I don't want to talk to a bot, get me a human",
      'I do not want a robot, I want a person',
      "I don't want another article, I want a human",
      'Ich will nicht mit einem Bot reden, sondern mit einem Menschen',
      'No quiero hablar con un bot, quiero una persona',
    ])
      expect(removeNegated(text).negations).toEqual([]);
  });

  it('keeps the request in another clause: "don\'t get me wrong, I need a human"', () => {
    const { rest } = removeNegated("don't get me wrong, I need a human");
    expect(rest).toBe('I need a human');
  });

  it('does not negate the person someone wants above all others', () => {
    expect(removeNegated("I don't want to talk to anyone but a human").negations).toEqual([]);
    expect(removeNegated("I don't want anyone else, get me a person").negations).toEqual([]);
  });

  it('stops at the clause: a negation of something else is no negation of the person', () => {
    expect(removeNegated("I can't log in, I want to talk to an agent").negations).toEqual([]);
    expect(
      removeNegated('Ich kann mich nicht einloggen und brauche einen Menschen').negations,
    ).toEqual([]);
    expect(removeNegated('No puedo entrar, quiero hablar con un agente').negations).toEqual([]);
  });

  it('finds every negated clause of a message', () => {
    const { rest, negations } = removeNegated(
      "I don't need an agent. Please don't call me. How do I export my data?",
    );
    expect(negations.map((n) => n.phrase)).toEqual(["don't need an agent", "Please don't call"]);
    expect(rest).toBe('How do I export my data?');
  });

  it.each([
    ['de', 'Ich brauche keinen Menschen, nur die Rechnung.'],
    ['fr', "Pas besoin d'un humain, merci."],
    ['es', 'No necesito un humano.'],
    ['it', 'Non ho bisogno di un operatore.'],
    ['nl', 'Geen mens nodig, dank je.'],
    ['pt', 'Não preciso de um atendente.'],
    ['pl', 'Nie potrzebuję konsultanta.'],
    ['sv', 'Jag behöver ingen människa.'],
  ])('finds the negation in %s: "%s"', (language, text) => {
    expect(removeNegated(text).negations[0]?.language).toBe(language);
  });
});
