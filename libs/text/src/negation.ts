// A request for a person, declined: the customer says they do NOT want a person ("no need for
// a human, just tell me...", "kein Mensch nötig", "pas besoin d'un humain",
// "no quiero hablar con un agente"). A negated clause is taken out of the text
// before the lexicon and the classifier look at it, so "no need for a human"
// asks for nobody while "I don't want a bot, get me a human" still does: a
// negation of the bot is not a negation of the person, and the clause after
// the comma stands.
import { oneOf, pattern, within } from './patterns.js';

export interface Negation {
  language: string;
  /** The negating words. */
  phrase: string;
}

export interface NegationResult {
  /** The text without its negated clauses (the text itself when nothing is negated). */
  rest: string;
  negations: Negation[];
}

// ------------------------------------------------------------------ English

const EN_WHO = oneOf([
  'humans?',
  'human beings?',
  'person',
  'people',
  'agents?',
  'reps?',
  'representatives?',
  'operators?',
  'someone',
  'somebody',
  'anyone',
  'anybody',
  'supervisor',
  'manager',
  'staff',
  'customer service',
  'customer support',
  'support',
  'call ?backs?',
  'phone calls?',
  'calls?',
  'transfer',
  '(?:be|being|get|getting)\\s+(?:transferred|connected|put through|passed on|handed over|escalated|called(?: back)?)',
]);
/** The person is the point, not a foil: "anyone but a human", "someone other than the bot". */
const EN_END = '\\b(?!\\s+(?:but|except|other than|besides|else)\\b)';
const EN_STOPS = [
  'but',
  'and',
  'so',
  'bot',
  'robot',
  'chatbot',
  'machine',
  'ai',
  'instead',
  'just',
  'get',
  'give',
];
const EN_NEG =
  "(?:don't|do not|dont|doesn't|does not|won't|will not|wouldn't|would not|never|not|no longer|am not|'m not|im not)";

const EN = [
  pattern(
    '\\bno\\s+need\\s+(?:for|of)\\s+(?:a|an|any|the)?\\s*(?:real\\s+|live\\s+|actual\\s+)?',
    EN_WHO,
    EN_END,
  ),
  pattern(
    "\\b(?:no need|there(?:'s| is) no need|(?:you\\s+)?(?:don't|do not|dont)\\s+(?:need|have)\\s+to|no point(?: in)?)\\s+(?:to\\s+)?",
    '(?:talk|speak|chat|transfer\\w*|connect\\w*|escalat\\w*|put\\w*\\s+me\\s+through|pass\\w*|hand\\w*\\s+me|send\\w*\\s+me|get(?:ting)?\\s+(?:a|an|any|some|me|anyone|anybody|someone|somebody)|involv\\w*|call\\w*|bother\\w*)\\b',
  ),
  // no need to bring in a human, you don't have to get anyone involved
  pattern(
    "\\b(?:no need|there(?:'s| is) no need|(?:you\\s+)?(?:don't|do not|dont)\\s+(?:need|have)\\s+to|no point(?: in)?)\\b",
    within(30, EN_STOPS),
    '\\b',
    EN_WHO,
    EN_END,
  ),
  pattern(
    '\\b',
    EN_NEG,
    '\\s+(?:really\\s+|even\\s+|actually\\s+|necessarily\\s+)?',
    '(?:need|want|wanna|require|wish|ask(?:ing)? (?:for|to)|looking (?:for|to)|trying to (?:reach|talk|speak|get)|interested in|feel like|like|asking|in a position to|have (?:the )?time (?:to|for))\\b',
    within(30, EN_STOPS),
    '\\b',
    EN_WHO,
    EN_END,
  ),
  pattern(
    "\\b(?:can't|cannot|can not)\\s+(?:(?:talk|speak)(?:\\s+to\\s+\\w+)?|take\\s+(?:a\\s+)?calls?)\\s+(?:right now|now|at the moment|on the phone|by phone|today)\\b|\\bcan't be on the phone\\b",
  ),
  pattern(
    "\\b(?:please\\s+)?(?:don't|do not|dont|never)\\s+(?:transfer|connect|escalate|put|pass|forward|route|hand|send|call|ring|phone|get|bother|involve|loop|bring)\\b",
  ),
  pattern(
    '\\bno\\s+(?:humans?|agents?|people|persons?|operators?|reps?|representatives?|call ?backs?|calls|phone calls?|transfer|escalation|supervisor|manager)\\b',
    '(?!\\s+(?:has|have|had|is|are|was|were|answered|replied|responded|available|online|called|got|picks?|seems?|one)\\b)',
  ),
  pattern(
    "\\b(?:humans?|person|agents?|reps?|representatives?|operators?|people|someone)\\s+(?:(?:is|are|was)\\s*n't|(?:is|are|was)\\s+not|not)\\s+(?:really\\s+)?(?:needed|necessary|required)\\b",
  ),
  pattern(
    "\\b(?:hate|dislike|don't like|do not like)\\s+(?:talking|speaking|chatting)\\s+(?:to|with|on)\\b",
  ),
  pattern(
    "\\b(?:please\\s+)?(?:don't|do not|dont)\\s+have\\s+(?:anyone|anybody|someone|somebody|a person|an agent|a human)\\s+(?:call|ring|phone|contact|email)\\b",
  ),
  pattern(
    '\\b(?:without|rather than|instead of)\\s+(?:(?:having|needing)\\s+to\\s+)?',
    '(?:(?:passing me|transferring me|putting me through|connecting me)\\s+(?:on\\s+|over\\s+)?(?:to|with)\\s+|(?:talking|talk|speak|chat|go|wait|call|contact|speaking|chatting|going|having|needing|waiting|calling|contacting)\\s+(?:to\\s+|with\\s+|through\\s+|for\\s+|on\\s+)?)?',
    '(?:a|an|any|the)?\\s*(?:real\\s+)?',
    EN_WHO,
    EN_END,
  ),
  pattern('\\b(?:rather than|instead of)\\s+(?:transferring|connecting|escalating|passing)\\b'),
  pattern(
    "\\b(?:i'd|i would|i|we'd|we)\\s+(?:rather|prefer|'d prefer|would prefer)\\s+not\\s+(?:to\\s+)?(?:talk|speak|chat|be\\s+(?:transferred|connected|called)|call|contact|involve)\\b",
  ),
  pattern(
    '\\b(?:forget|cancel|never mind)\\s+(?:about\\s+)?(?:the|my)\\s+(?:request\\s+for\\s+(?:a|an)\\s+)?(?:agent|human|person|transfer|callback|call)\\b',
  ),
];

// ------------------------------------------------------------------ German

const DE_WHO =
  '(?:mensch(?:en)?|mitarbeiter(?:in|innen|n)?|berater(?:in)?|person|agent(?:en)?|ansprechpartner(?:in)?|jemand(?:em|en)?|vorgesetzten?|kundendienst|rückruf|anruf|weiterleitung)';
const DE_STOPS = [
  'ich',
  'wir',
  'will',
  'möchte',
  'brauche',
  'bräuchte',
  'benötige',
  'bitte',
  'und',
  'aber',
  'sondern',
  'bot',
  'roboter',
  'chatbot',
  'maschine',
  'ki',
];

const DE = [
  pattern(
    '\\b(?:kein|keine|keinen|keinem|keiner)\\s+(?:echte[nmr]?\\s+|menschliche[nmr]?\\s+)?',
    DE_WHO,
    '\\b',
  ),
  pattern('\\bnicht\\b', within(30, DE_STOPS), '\\b', DE_WHO, '\\b'),
  pattern(
    '\\b(?:nicht|nie)\\s+(?:weiter(?:leiten|verbinden)|verbinden|durchstellen|zurückrufen|anrufen|eskalieren)\\b',
  ),
  pattern('\\bruf\\w*\\s+(?:sie\\s+)?(?:mich|uns)\\s+(?:bitte\\s+)?nicht\\b'),
  pattern(
    '\\b(?:ohne|statt|anstatt|anstelle)\\s+(?:(?:einen|eine|einem|einer|den|die)\\s+)?(?:echten\\s+)?',
    DE_WHO,
    '\\b',
  ),
  pattern('\\b', DE_WHO, '\\s+(?:ist|sind|wäre)\\s+nicht\\s+(?:nötig|notwendig|erforderlich)\\b'),
];

// ------------------------------------------------------------------ French

const FR_WHO =
  "(?:humain|conseill(?:er|ère)|agent|opérat(?:eur|rice)|une\\s+personne|quelqu'un|responsable|superviseur|service\\s+client|rappel|appel)";
const FR_STOPS = [
  'je',
  "j'",
  'et',
  'veux',
  'voudrais',
  'mais',
  'robot',
  'bot',
  'chatbot',
  'machine',
  'ia',
];

const FR = [
  pattern("\\bpas\\s+besoin\\s+(?:d'|de\\b|du\\b)"),
  pattern(
    "(?:\\bne\\b|\\bn')\\s*(?:\\S+\\s+){1,2}?(?:pas|plus|jamais)\\b",
    within(30, FR_STOPS),
    FR_WHO,
    '\\b',
  ),
  pattern(
    '\\bne\\s+me\\s+(?:transférez|transfère|transférer|passez|passe|mettez|rappelez|appelez)\\s+pas\\b',
  ),
  pattern('\\binutile\\s+de\\s+(?:me\\s+)?(?:transférer|passer|rappeler|appeler|parler)\\b'),
  pattern(
    '\\bsans\\s+(?:passer\\s+par\\s+|parler\\s+(?:à|a)\\s+)?(?:un\\s+|une\\s+)?(?:humain|conseill(?:er|ère)|agent|opérat(?:eur|rice)|personne)\\b',
  ),
  pattern(
    "\\bpas\\s+(?:de|d')\\s*(?:humain|conseill(?:er|ère)|agent|opérat(?:eur|rice)|rappel|appel)\\b",
  ),
];

// ------------------------------------------------------------------ Spanish

const ES_WHO =
  '(?:humano|persona|agente|operador(?:a)?|asesor(?:a)?|representante|alguien|supervisor(?:a)?|encargad[oa]|llamada|transferencia)';
const ES_STOPS = ['quiero', 'necesito', 'y', 'pero', 'sino', 'bot', 'robot', 'máquina', 'chatbot'];

const ES = [
  pattern(
    '\\bno\\s+(?:necesito|quiero|hace\\s+falta|es\\s+necesario|hay\\s+necesidad\\s+de|me\\s+hace\\s+falta|deseo|busco|estoy\\s+pidiendo|pido)\\b',
    within(30, ES_STOPS),
    '\\b',
    ES_WHO,
    '\\b',
  ),
  pattern(
    '\\bno\\s+(?:me\\s+)?(?:transfieras|transfiera|transfieran|pases|pase|pasen|conectes|conecte|conecten|llames|llame|llamen|comuniques|escales)\\b',
  ),
  pattern(
    '\\bno\\s+hace\\s+falta\\s+(?:que\\s+)?(?:me\\s+)?(?:transfier\\w*|pas\\w*|llam\\w*|conect\\w*)\\b',
  ),
  pattern(
    '\\b(?:sin|en\\s+lugar\\s+de|en\\s+vez\\s+de)\\s+(?:hablar\\s+con\\s+|pasar\\s+por\\s+)?(?:un|una)?\\s*(?:humano|persona|agente|operador|asesor)\\b',
  ),
];

// ------------------------------------------------------------------ Italian

const IT_WHO =
  '(?:umano|persona|operat(?:ore|rice)|consulente|qualcuno|addett[oa]|responsabile|agente|assistente|richiamata|chiamata)';
const IT_STOPS = ['voglio', 'vorrei', 'e', 'ma', 'bensì', 'bot', 'robot', 'chatbot', 'macchina'];

const IT = [
  pattern(
    '\\bnon\\s+(?:ho\\s+bisogno|voglio|vorrei|serve|servono|è\\s+necessario|occorre|mi\\s+serve|desidero|cerco|sto\\s+chiedendo)\\b',
    within(30, IT_STOPS),
    '\\b',
    IT_WHO,
    '\\b',
  ),
  pattern(
    '\\bnon\\s+(?:mi\\s+)?(?:passare|passarmi|trasferire|trasferirmi|richiamare|richiamarmi|chiamare|chiamarmi|passate|trasferite|richiamate)\\b',
  ),
  pattern(
    "\\b(?:senza|invece\\s+di)\\s+(?:parlare\\s+con\\s+|passare\\s+per\\s+)?(?:un|una|l')?\\s*(?:operat(?:ore|rice)|umano|persona|consulente|agente)\\b",
  ),
  pattern('\\bnessun[oa]?\\s+(?:operat(?:ore|rice)|umano|persona|consulente|agente)\\b'),
];

// ------------------------------------------------------------------ Dutch

const NL_WHO =
  '(?:mens|medewerk(?:er|ster)|persoon|iemand|agent|operator|klantenservice|terugbelverzoek|telefoontje)';
const NL_STOPS = ['ik', 'wil', 'en', 'maar', 'bot', 'robot', 'chatbot', 'computer'];

const NL = [
  pattern('\\b(?:geen|niet)\\b', within(30, NL_STOPS), '\\b', NL_WHO, '\\b'),
  pattern(
    '\\b(?:niet|nooit)\\s+(?:door(?:verbinden|schakelen|sturen)|terugbellen|bellen|verbinden)\\b',
  ),
  pattern('\\b(?:verbind|bel)\\s+(?:me|mij)\\s+niet\\b'),
  pattern('\\b(?:zonder|in\\s+plaats\\s+van)\\s+(?:een\\s+)?(?:mens|medewerker|persoon|agent)\\b'),
];

// ------------------------------------------------------------------ Portuguese

const PT_WHO =
  '(?:humano|pessoa|atendente|agente|operador(?:a)?|algu[ée]m|representante|supervisor(?:a)?|gerente|ligação)';
const PT_STOPS = [
  'quero',
  'preciso',
  'e',
  'mas',
  'sim',
  'robô',
  'robo',
  'bot',
  'chatbot',
  'máquina',
];

const PT = [
  pattern(
    '\\bn[ãa]o\\s+(?:preciso|quero|precisa|é\\s+necessário|há\\s+necessidade|desejo|estou\\s+pedindo)\\b',
    within(30, PT_STOPS),
    '\\b',
    PT_WHO,
    '\\b',
  ),
  pattern(
    '\\bn[ãa]o\\s+(?:me\\s+)?(?:transfira|transfere|transferir|passe|passa|ligue|liga|ligar|conecte)\\b',
  ),
  pattern(
    '\\b(?:sem|em\\s+vez\\s+de)\\s+(?:falar\\s+com\\s+)?(?:um|uma)?\\s*(?:humano|pessoa|atendente|agente)\\b',
  ),
];

// ------------------------------------------------------------------ Polish

const PL_WHO =
  '(?:człowiek\\w*|konsultant\\w*|osob\\w*|pracownik\\w*|kogoś|agent\\w*|doradc\\w*|telefon\\w*|kierownik\\w*)';
const PL_STOPS = [
  'chcę',
  'potrzebuję',
  'i',
  'ale',
  'tylko',
  'bot',
  'bota',
  'botem',
  'robot',
  'robota',
  'robotem',
];

const PL = [
  pattern(
    '\\bnie\\s+(?:potrzebuję|potrzebuje|chcę|chce|muszę|trzeba)\\b',
    within(30, PL_STOPS),
    '\\b',
    PL_WHO,
    '\\b',
  ),
  pattern('\\bnie\\s+(?:przełączaj|przełączajcie|łącz|łączcie|dzwońcie|dzwoń|przekierowuj)\\w*\\b'),
  pattern('\\bbez\\s+(?:rozmowy\\s+z\\s+)?(?:człowiek\\w*|konsultant\\w*|osob\\w*)\\b'),
];

// ------------------------------------------------------------------ Swedish

const SV_WHO = '(?:människa|person|handläggare|medarbetare|agent|kundtjänst|samtal)';
const SV_STOPS = [
  'jag',
  'vill',
  'behöver',
  'och',
  'men',
  'utan',
  'bot',
  'robot',
  'chatbot',
  'chattbot',
];

const SV = [
  pattern('\\b(?:inte|ingen|inget|inga)\\b', within(30, SV_STOPS), '\\b', SV_WHO, '\\b'),
  pattern('\\b(?:koppla|ring)\\s+(?:mig\\s+)?(?:inte|aldrig)\\b'),
  pattern('\\butan\\s+(?:att\\s+prata\\s+med\\s+)?(?:en\\s+)?(?:människa|person|handläggare)\\b'),
];

/** The negations, language by language. */
export const NEGATION_LEXICON: readonly { language: string; patterns: readonly RegExp[] }[] = [
  { language: 'en', patterns: EN },
  { language: 'de', patterns: DE },
  { language: 'fr', patterns: FR },
  { language: 'es', patterns: ES },
  { language: 'it', patterns: IT },
  { language: 'nl', patterns: NL },
  { language: 'pt', patterns: PT },
  { language: 'pl', patterns: PL },
  { language: 'sv', patterns: SV },
];

/** Characters that end a clause: what a negation reaches no further than. */
const CLAUSE_END = /[.!?,;:\n]/;

/** [start, end) of the clause around `index`. */
function clauseAround(text: string, index: number, length: number): [number, number] {
  let start = index;
  while (start > 0 && !CLAUSE_END.test(text[start - 1])) start--;
  let end = index + length;
  while (end < text.length && !CLAUSE_END.test(text[end])) end++;
  return [start, end];
}

/**
 * Finds the clauses of `text` (already normalised) that say the customer does
 * not want a person or a transfer, and returns the text without them.
 */
export function removeNegated(text: string): NegationResult {
  const negations: Negation[] = [];
  let rest = text;
  for (const { language, patterns } of NEGATION_LEXICON) {
    for (const re of patterns) {
      // A clause may hold more than one negation; each pass blanks one.
      for (let m = re.exec(rest); m; m = re.exec(rest)) {
        negations.push({ language, phrase: m[0].trim() });
        const [start, end] = clauseAround(rest, m.index, m[0].length);
        rest = `${rest.slice(0, start)}${' '.repeat(end - start)}${rest.slice(end)}`;
      }
    }
  }
  // What the removed clauses leave at the start ("no need for a human, just…" → "just…").
  const left = rest
    .replace(/\s+/g, ' ')
    .replace(/^[\s.,;:!?]+/, '')
    .trim();
  return { rest: negations.length ? left : text, negations };
}
