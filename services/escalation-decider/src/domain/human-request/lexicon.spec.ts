import { detectHumanRequest } from '../human-request';
import { matchLexicon } from './lexicon';

// Requests and negations per language, through the lexicon layers (negations, then the lexicon).
const REQUESTS: Record<string, string[]> = {
  en: [
    'I want to talk to a human',
    'can I speak with a real person please',
    'agent please',
    'Human!',
    'get me a supervisor',
    'transfer me to someone from billing',
    'how do I contact a human agent?',
    'please call me back',
    "I don't want to talk to a bot, get me a human",
  ],
  de: [
    'Ich möchte bitte mit einem Menschen sprechen.',
    'Kann ich mit einem Mitarbeiter reden?',
    'Verbinden Sie mich bitte mit einem Berater.',
    'Bitte leiten Sie mich an einen Mitarbeiter weiter.',
    'Ich brauche einen echten Menschen.',
    'Rufen Sie mich bitte zurück.',
    'Ich will keinen Bot, sondern einen Menschen.',
  ],
  fr: [
    'Je veux parler à un conseiller.',
    'Mettez-moi en relation avec un agent.',
    'Pouvez-vous me rappeler ?',
    'Un humain svp',
    'Je veux parler à une vraie personne',
    'Je ne veux pas parler à un robot, je veux un humain',
  ],
  es: [
    'Quiero hablar con una persona, por favor.',
    'Pásame con un asesor',
    'Necesito un humano',
    'Llámenme por favor',
    'No quiero hablar con un bot, quiero una persona',
  ],
  it: [
    'Vorrei parlare con un operatore',
    'Passami un operatore per favore',
    'Voglio parlare con una persona vera',
    'Mi potete richiamare?',
  ],
  nl: [
    'Ik wil met een medewerker spreken',
    'Kan ik een mens spreken?',
    'Verbind me door met een medewerker',
    'Kunt u mij terugbellen?',
    'Ik wil geen bot maar een mens',
  ],
  pt: [
    'Quero falar com um atendente',
    'Me transfira para um atendente',
    'Atendimento humano por favor',
    'Podem me ligar?',
  ],
  pl: [
    'Chcę rozmawiać z konsultantem',
    'Poproszę konsultanta',
    'Chcę porozmawiać z prawdziwą osobą',
    'Oddzwońcie do mnie',
  ],
  sv: [
    'Jag vill prata med en människa',
    'Kan jag få prata med en handläggare?',
    'Koppla mig vidare till kundtjänst',
    'Ring upp mig',
  ],
};

const NEGATIONS: Record<string, string[]> = {
  en: [
    'no need for a human, just tell me how to reset my password',
    "I don't want to talk to an agent, just answer",
    "please don't transfer me, I just need the steps",
    "I don't want to be transferred, please just answer my question",
    "there's no need to bring in a human, what does the pro plan cost?",
  ],
  de: [
    'Kein Mensch nötig, sagen Sie mir einfach, wie ich mein Passwort ändere.',
    'Ich will nicht mit einem Mitarbeiter sprechen, beantworten Sie einfach meine Frage.',
    'Sie müssen mich nicht weiterleiten.',
  ],
  fr: [
    "Pas besoin d'un humain, dites-moi juste comment exporter mes données.",
    'Je ne veux pas parler à un conseiller, répondez simplement.',
    'Inutile de me transférer, je veux juste le prix.',
  ],
  es: [
    'No quiero hablar con un agente, solo dime el precio.',
    'No necesito un humano, solo la factura.',
    'No hace falta que me transfieras.',
  ],
  it: [
    'Non ho bisogno di un operatore, dimmi solo il prezzo.',
    'Non voglio parlare con un operatore.',
  ],
  nl: [
    'Ik hoef geen medewerker, zeg me gewoon hoe ik mijn wachtwoord wijzig.',
    'Ik wil niet met een medewerker praten.',
  ],
  pt: [
    'Não preciso de um atendente, só quero a fatura.',
    'Não quero falar com um humano, responda aqui.',
  ],
  pl: ['Nie potrzebuję konsultanta, podaj mi tylko cenę.', 'Nie chcę rozmawiać z konsultantem.'],
  sv: [
    'Jag behöver ingen människa, berätta bara hur jag byter lösenord.',
    'Jag vill inte prata med en handläggare.',
  ],
};

/** Agents, persons and operators of the product, and other senses: no request in any language. */
const NOT_REQUESTS = [
  'How do I reset my password?',
  'The agent field in the API is empty',
  'how do I add an agent to my account',
  'can agents see my invoices',
  'does the human resources module include payroll',
  'who is the legal representative on our contract',
  'how do I add an operator to the AND condition',
  'how do I change the contact person for billing',
  'the agent I spoke to yesterday promised me a refund, where is it?',
  'what is your customer service phone number',
  'how do I contact customer service?',
  'Wie füge ich einen Mitarbeiter hinzu?',
  'Ich möchte einen Mitarbeiter hinzufügen.',
  'Comment ajouter un agent à mon équipe ?',
  "Personne ne m'a répondu hier.",
  '¿Cómo agrego un agente a mi cuenta?',
  'Come aggiungo un operatore al mio account?',
  'Hoe voeg ik een medewerker toe?',
  'Como adiciono um agente à minha conta?',
];

describe('the lexicon layers, language by language', () => {
  describe.each(Object.keys(REQUESTS))('%s', (language) => {
    it.each(REQUESTS[language])('recognises "%s" as a request in its language', (text) => {
      const found = detectHumanRequest(text);
      expect(found).toMatchObject({ language, layer: 'lexicon', probability: 1, threshold: 1 });
      expect(text.toLowerCase()).toContain(found!.phrase.toLowerCase());
    });

    it.each(NEGATIONS[language])('takes "%s" as asking for nobody', (text) => {
      expect(detectHumanRequest(text)).toBeUndefined();
    });
  });

  it.each(NOT_REQUESTS)('does not fire on "%s"', (text) => {
    expect(detectHumanRequest(text)).toBeUndefined();
  });

  it('reads word boundaries in every alphabet ("être rappelé", "osobą")', () => {
    expect(matchLexicon('Je souhaite être rappelé')?.language).toBe('fr');
    expect(matchLexicon('Chcę rozmawiać z osobą')?.language).toBe('pl');
  });

  it('reads typographic apostrophes as plain ones', () => {
    expect(detectHumanRequest('je veux parler à quelqu’un de votre équipe')?.language).toBe('fr');
    expect(detectHumanRequest('I don’t want to talk to an agent, just answer')).toBeUndefined();
  });

  it('gives wording two lexicons share to the language of the other words', () => {
    expect(matchLexicon('Un humano por favor, gracias')?.language).toBe('es');
    expect(matchLexicon('Atendimento humano por favor, obrigado')?.language).toBe('pt');
  });
});
