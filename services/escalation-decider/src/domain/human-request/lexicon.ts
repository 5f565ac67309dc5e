// The first layer: explicit requests for a person, word for word, in the nine
// languages the decider serves. Cheap and precise; English wording it misses
// is left to the learned classifier (classifier.ts). Each pattern asks for a
// person *now* (talk to, connect me with, call me back, a person please);
// mentions of agents as a product feature, or of people the customer already
// spoke to, are not requests. Negations are handled before (@support/text, negation.ts).
import { languageScores } from './language.js';
import { oneOf, pattern } from '@support/text';

export interface LexiconMatch {
  /** ISO 639-1 code of the language whose wording matched. */
  language: string;
  /** The words that matched. */
  phrase: string;
}

// ------------------------------------------------------------------ English

const EN_DET =
  '(?:(?:a|an|the|some|any|your|one of your|one of the|a member of|someone from|somebody from|someone in|somebody in|someone on|somebody on|my account)\\s+)?';
const EN_ADJ =
  '(?:(?:real|live|actual|proper|human|genuine|living|customer service|customer support|customer care|support|cs|tech|technical|billing|sales|helpdesk|help desk|senior)\\s+){0,2}';
const EN_PERSON = oneOf([
  'humans?',
  'human beings?',
  'humna',
  'huamn',
  'humman',
  'person',
  'persn',
  'prson',
  'people',
  'agents?',
  'agnet',
  'reps?',
  'representatives?',
  'reprensentative',
  'representitive',
  'representive',
  'operators?',
  'operater',
  'opperator',
  'someone',
  'somebody',
  'somone',
  'anyone',
  'anybody',
  'supervisor',
  'manager',
  'boss',
  'team lead',
  'staff(?: member)?',
  'member of (?:your |the )?(?:staff|team)',
  'team member',
  'employee',
  'advis[eo]r',
  'consultant',
  'specialist',
  'technician',
  'engineer',
  'expert',
  'customer service',
  'customer support',
  'customer care',
  'support team',
  'support staff',
  'help ?desk',
  'account manager',
  'sales(?: team| rep)?',
  'billing(?: team| department)?',
  '(?:live|human|real|actual) assistant',
  '(?:(?!my\\b|our\\b|the\\b)[a-z]+\\s+)?(?:team|department)',
]);
/** A person, not a role or a feature of the product ("an agent seat", "the manager role"). */
const EN_NOT_FEATURE =
  "(?!\\s*(?:seats?|licen[cs]es?|roles?|accounts?|permissions?|fields?|views?|dashboard|module|app|logins?|profiles?|groups?|status|reports?|records?|numbers?|phone|e-?mail|address|hours|line|links?|pages?|portal|contact|details|info|form|button|means?|'s)\\b)";
const EN_NP = `${EN_DET}${EN_ADJ}${EN_PERSON}\\b${EN_NOT_FEATURE}`;
const EN_TALK = oneOf([
  'talk',
  'speak',
  'chat',
  'tlak',
  'tak',
  'speek',
  'tallk',
  // not a report: "after talking to your team", "I was speaking with an agent"
  '(?<!(?:after|since|while|when|been|was|were|from|by|of|i)\\s)(?:talking|speaking|chatting)',
]);
const EN_STRONG = oneOf([
  'humans?',
  'humna',
  'huamn',
  'humman',
  'persn',
  'prson',
  'agnet',
  'operater',
  'human beings?',
  'real person',
  'actual person',
  'live (?:agent|person|rep)',
  'agent',
  'representative',
  'rep',
  'operator',
  'supervisor',
  'manager',
  'person',
]);

const EN = [
  // talk to a human, speak with someone from your team, chat w/ an agent (not: click "talk to sales")
  pattern(
    '\\b(?<!click\\s|clicking\\s|click on\\s|(?:my|our|the|a|your|this|that|his|her)\\s)',
    EN_TALK,
    '\\s+(?:to|with|2|w/?)\\s+',
    EN_NP,
  ),
  // contact a human agent, reach a live person, get hold of a real person
  pattern(
    // (not the "contact person" of a record)
    '\\b(?:contact(?:ing)?|reach(?:ing)?|get(?:ting)? in (?:touch|contact) with|get(?:ting)? hold of|get(?:ting)? through to|be in touch with)\\s+(?!persons?\\b)',
    '(?:(?:a|an|one of your|your|some)\\s+)?(?:real\\s+|live\\s+|actual\\s+|human\\s+)?',
    '(?:humans?|human beings?|person|agents?|operators?|representatives?|reps?|someone|somebody|supervisor|manager|live assistant|human assistant)\\b',
    EN_NOT_FEATURE,
  ),
  // can I get a human, may I have an agent, could we speak to a rep
  pattern(
    '\\b(?:can|could|may)\\s+(?:i|we)\\s+(?:please\\s+)?(?:get|have)\\s+(?:a|an)\\s+(?:real\\s+|live\\s+|actual\\s+)?',
    EN_STRONG,
    '\\b',
    EN_NOT_FEATURE,
  ),
  // be transferred to a human, get connected with an agent, escalated to a manager
  pattern(
    '\\b(?:be|being|get|getting)\\s+(?:transferred|connected|put through|handed over|passed|escalated)\\s+(?:to|with)\\s+',
    EN_NP,
  ),
  pattern('\\b(?:escalated|escalation)\\s+to\\s+', EN_NP),
  // put me in touch with, get a human on the line, loop in a person
  pattern('\\bput\\s+(?:me|us)\\s+in\\s+(?:touch|contact)\\s+with\\b'),
  pattern(
    '\\bget\\s+(?:a|an|some)\\s+(?:real\\s+|live\\s+|actual\\s+)?(?:human|person|agent|rep|representative)\\s+(?:on|in|into|involved)\\b',
  ),
  pattern(
    '\\b(?:involve|loop in|bring in)\\s+(?:a|an|some)\\s+(?:real\\s+|live\\s+)?(?:human|person|agent)\\b',
  ),
  // get customer service on the line, put a human on
  pattern(
    '\\b(?:get|put)\\s+(?:a\\s+|an\\s+|some\\s+)?(?:real\\s+|live\\s+)?(?:human|person|agent|customer service|customer support|someone|somebody)',
    '\\s+on(?:\\s+(?:the\\s+)?(?:line|phone|chat|this|here))?\\s*(?:[.,!?]|$)',
  ),
  // need agent., need a human
  pattern('\\bneed\\s+(?:an?\\s+)?(?:human|agent|person|rep|operator)\\s*(?:[.,!?]|$)'),
  // pass me to a colleague
  pattern(
    '\\b(?:pass|hand|transfer|put|connect)\\s+me\\s+(?:over\\s+|through\\s+|on\\s+)?(?:to|with)\\s+(?:a|one of your|your)\\s+colleagues?\\b',
  ),
  // human support please, I need human assistance
  pattern(
    '\\bhuman\\s+(?:support|suport|help|assistance|agent|being|customer service)\\s*[,.!]?\\s*(?:please|pls|plz|now)\\b',
  ),
  pattern(
    '\\b(?:need|want|like|prefer|requesting|request)\\s+(?:a\\s+|some\\s+)?(?:real\\s+)?(?:human|huamn|humna)\\s+(?:support|suport|help|assistance|agent|customer service)\\b',
  ),
  // is a human available, are any agents online
  pattern(
    '\\b(?:is|are)\\s+(?:there\\s+)?(?:a|an|any|the)\\s+(?:real\\s+|live\\s+)?(?:humans?|agents?|person|people|reps?|representatives?)\\s+(?:available|there|online|around|here)\\b',
  ),
  // transfer me to a human, put me through to an operator, escalate my ticket to a person
  pattern(
    '\\b(?:transfer|connect|put|pass|forward|route|hand|switch|send|direct|escalate|patch)\\s+',
    '(?:me|us|this|it|my (?:chat|call|case|ticket|issue|request|complaint))\\s+',
    '(?:through\\s+|thru\\s+|over\\s+|on\\s+|back\\s+)?(?:to|with|into)\\s+',
    EN_NP,
  ),
  // "connect me", "transfer me please", "just put me through"
  pattern(
    '^\\W*(?:please\\s+|pls\\s+|just\\s+|ok\\s+)*(?:connect|transfer|escalate|put)\\s+me(?:\\s+(?:through|thru))?',
    '(?:\\s+(?:please|pls|now))?\\W*$',
  ),
  // get me a human, give me someone real, gimme an agent
  pattern('\\b(?:get|give|find|bring|fetch|gimme)\\s+(?:me|us)\\s+(?:to\\s+)?', EN_NP),
  pattern('\\bgimme\\s+', EN_NP),
  // I want a human, we need a real person, I demand a supervisor
  pattern(
    "\\b(?:i|we)(?:'d| would)?\\s+(?:really\\s+|just\\s+)?",
    '(?:want|need|like|wanna|demand|require|request|prefer)\\s+(?:to\\s+(?:talk|speak|chat)\\s+(?:to|with)\\s+)?',
    '(?:a|an|the|some)\\s+(?:real\\s+|live\\s+|actual\\s+|human\\s+)?',
    EN_STRONG,
    '\\b',
    EN_NOT_FEATURE,
  ),
  // agent please, human now, real person asap
  pattern(
    '\\b(?:human|real person|live (?:agent|person)|agent|operator|representative|rep|person)',
    '\\s*[.,!]?\\s*(?:please|pls|plz|now|asap)\\b',
  ),
  // the whole message: "HUMAN", "representative!!!", "live agent", "a real person please"
  pattern(
    '^\\W*(?:an?\\s+)?(?:real\\s+|live\\s+|actual\\s+)?',
    '(?:humans?|humna|agent|agnet|operator|operater|opperator|representative|reprensentative|representitive|representive|rep|person|supervisor|someone real|staff|employee|customer servi[sc]e (?:rep|agent|representative))',
    '(?:\\s+(?:please|pls|plz|now|asap))?\\W*$',
  ),
  // escalate this / me / my case; escalate to a human; escalate pls
  pattern(
    '\\bescalate\\s+(?:this|me|it|my\\s+\\w+|to\\s+',
    EN_NP,
    '|please|pls)\\b(?!\\s+(?:automatically|rules?|polic))',
  ),
  // call me back, can someone call me, I'd like a callback
  pattern(
    '\\b(?:call|ring|phone)\\s+(?:me|us)\\s+back\\b|\\b(?:please|can you|could you|can someone|could someone|can somebody|have someone|get someone to|someone to)\\s+(?:call|ring|phone)\\s+(?:me|us)\\b',
  ),
  pattern(
    '\\b(?:request(?:ing)?|book|schedule|want|like|need|get|arrange|have)\\s+(?:a\\s+)?call ?back\\b(?!\\s*(?:url|function|handler|endpoint))',
  ),
  pattern(
    '\\b(?:someone|somebody|a person|an agent|a human|a rep\\w*|your manager|a manager|a supervisor)\\s+(?:to\\s+)?(?:call|ring|phone)\\s+me\\b',
  ),
  // stop the bot, I don't want a robot, I'm done talking to a bot
  pattern(
    "\\b(?:stop|skip|bypass|turn off|done with|tired of|sick of|enough with|enough of|no more|don't want|dont want|do not want)\\s+",
    '(?:talking to\\s+|chatting with\\s+|to talk to\\s+|to chat with\\s+|to speak to\\s+|to speak with\\s+)?',
    '(?:the|this|a|an|your)?\\s*(?:(?:bot|chatbot|robot)\\b(?!\\s+(?:from|on|for|in)\\b)|(?:ai|machine|automated (?:replies|answers?|responses|system|assistant))\\b(?!\\s+\\w))',
  ),
  pattern(
    '\\b(?:person|human|agent|someone)\\s*,?\\s*not\\s+(?:a\\s+)?(?:bot|robot|machine|chatbot)',
  ),
  // is there a human there, is anybody there who's not a bot, are there any agents available
  pattern(
    '\\b(?:is|are)\\s+there\\s+(?:a|an|any)?\\s*(?:real\\s+)?',
    '(?:humans?|person|people|agents?|someone|somebody|anyone|anybody)\\s+',
    "(?:real|there|here|on|available|i can|we can|who|that|around|online|reading|who's|human)\\b",
  ),
  pattern('\\bis\\s+(?:there\\s+)?(?:anyone|anybody|someone|somebody)\\s+(?:there|real|human)\\b'),
  // can a human look at my case, I need a real person to look at this
  pattern(
    "\\b(?:can|could|would|will|may|please|let|have|get|need|want|'d like|like)\\s+(?:\\w+\\s+){0,2}?",
    '(?:a|an|some)\\s+(?:real\\s+|actual\\s+|live\\s+)?(?:human|person|human being)\\s+(?:to\\s+)?',
    '(?:take over|look (?:at|into)|check|review|handle|help|sort|deal with|fix|confirm|verify)\\b',
  ),
];

// ------------------------------------------------------------------ German

const DE_PERSON = oneOf([
  'mensch(?:en)?',
  'mitarbeiter(?:in|innen|n)?',
  'berater(?:in|n)?',
  'kundenberater(?:in)?',
  'person',
  'jemand(?:em|en)?',
  'ansprechpartner(?:in)?',
  'sachbearbeiter(?:in)?',
  'vorgesetzten?',
  'chef',
  'supervisor',
  'agent(?:en)?',
  'kundendienst',
  'kundenservice',
  'support',
  'techniker(?:in)?',
  'experten?',
  'verantwortlichen?',
]);
const DE_ADJ = '(?:(?:echten|richtigen|menschlichen|lebenden|echte|richtige)\\s+)?';
const DE_DET =
  '(?:(?:einem|einer|einen|eine|dem|der|den|ihrem|ihrer|eurem|eurer|einem ihrer|einer ihrer)\\s+)?';
const DE_NOT_FEATURE =
  '(?![^.!?]{0,30}\\b(?:hinzufügen|anlegen|einladen|löschen|entfernen|zuweisen|freischalten|teilen)\\b)';

const DE = [
  // mit einem Menschen sprechen, mit jemandem vom Support reden
  pattern(
    '\\bmit\\s+',
    DE_DET,
    DE_ADJ,
    DE_PERSON,
    '\\b',
    DE_NOT_FEATURE,
    '[^.!?]{0,40}?\\b(?:sprechen|reden|chatten|telefonieren|verbunden|verbinden|kommunizieren|unterhalten|austauschen)\\b',
  ),
  // verbinden Sie mich mit einem Mitarbeiter, leiten Sie mich an einen Menschen weiter
  pattern(
    '\\b(?:verbinden|verbindet|verbinde|stellen|stellt|stell|leiten|leitet|leite|schalten|reichen|geben|gib)\\s+',
    '(?:sie\\s+)?(?:mich|uns)\\s+(?:bitte\\s+)?(?:(?:weiter|durch)\\s+)?(?:mit|zu|an)\\s+',
    DE_DET,
    DE_ADJ,
    DE_PERSON,
  ),
  // ich möchte einen Mitarbeiter, ich brauche einen echten Menschen
  pattern(
    '\\b(?:will|möchte|möchten|hätte gerne?|brauche|bräuchte|benötige|wünsche|verlange|fordere)\\s+',
    '(?:(?:jetzt|bitte|sofort|endlich|gerne?)\\s+)*(?:einen|eine|einem|den|die)\\s+',
    DE_ADJ,
    '(?:menschen|mitarbeiter(?:in)?|berater(?:in)?|kundenberater(?:in)?|ansprechpartner(?:in)?|sachbearbeiter(?:in)?|vorgesetzten|rückruf|supervisor|person|agenten)\\b',
    DE_NOT_FEATURE,
  ),
  // an einen Mitarbeiter weiterleiten
  pattern(
    '\\ban\\s+(?:einen|eine|jemanden)\\s+',
    DE_ADJ,
    '(?:menschen|mitarbeiter(?:in)?|berater(?:in)?|person)\\s+(?:weiter(?:leiten|geben|reichen)|übergeben|verbinden)\\b',
  ),
  // Rückruf, rufen Sie mich zurück
  pattern(
    '\\b(?:bitte\\s+um\\s+(?:einen\\s+)?rückruf|einen\\s+rückruf|(?:rufen|ruft|ruf)\\s+(?:sie\\s+)?(?:mich|uns)\\s+(?:bitte\\s+)?(?:\\w+\\s+){0,3}?(?:zurück|an))\\b',
  ),
  // Mensch bitte, bitte einen Mitarbeiter
  pattern('\\b(?:mensch(?:en)?|mitarbeiter|berater|support)\\s*,?\\s*bitte\\b'),
  pattern(
    '\\bbitte\\s+(?:einen|eine|mit\\s+einem)\\s+',
    DE_ADJ,
    '(?:menschen|mitarbeiter|berater|person)\\b',
  ),
  pattern(
    '^\\W*(?:ein(?:en)?\\s+)?(?:echten?\\s+)?(?:mensch(?:en)?|mitarbeiter(?:in)?|berater(?:in)?|kundendienst)(?:\\s+bitte)?\\W*$',
  ),
  // keinen Bot, nicht mit einem Bot; echte Menschen, menschliche Hilfe
  pattern(
    '\\b(?:kein(?:en)?|nicht\\s+(?:mit\\s+)?(?:einem|dem|diesem))\\s+(?:bot|roboter|chatbot|maschine|computer)\\b',
  ),
  pattern(
    '\\b(?:echte[nmrs]?|richtige[nmrs]?|lebende[nmrs]?|menschliche[nmrs]?)\\s+(?:menschen|person|mitarbeiter|ansprechpartner|hilfe|unterstützung|berater)\\b',
  ),
  // gibt es hier einen Menschen, ist da jemand
  pattern(
    '\\bgibt\\s+es\\s+(?:hier\\s+)?(?:(?:einen|eine|jemanden|irgendjemanden)\\s+)?(?:echten\\s+)?(?:menschen|mitarbeiter|person|jemanden)\\b',
  ),
  pattern('\\bist\\s+(?:da|hier)\\s+(?:ein\\s+)?(?:jemand|mensch)\\b'),
];

// ------------------------------------------------------------------ French

const FR_NP =
  "(?:(?:un|une|le|la|l'|des|votre|vos|un de vos|une de vos|quelqu'un (?:de|du|d')\\s*\\w*)\\s*)?" +
  '(?:vrai(?:e)?\\s+|véritable\\s+|réel(?:le)?\\s+)?' +
  oneOf([
    'humain',
    'être humain',
    'conseill(?:er|ère)',
    'agent',
    'opérat(?:eur|rice)',
    "quelqu'un",
    'personne (?:réelle|humaine|physique)',
    'responsable',
    'superviseur',
    'manager',
    'service client(?:èle)?',
    'support',
    'technicien(?:ne)?',
    'collègue',
    'employé(?:e)?',
    'interlocut(?:eur|rice)',
  ]);

const FR = [
  // parler à un conseiller, discuter avec un humain, être mis en relation avec un agent
  pattern(
    "\\b(?:parler|discuter|échanger|m'entretenir|chatter|être mise? en relation|mettre en relation|être en contact|entrer en contact|transférer|transférez|transfère|transmettre|passez)",
    '(?:[- ]moi)?\\s*(?:à|a|avec|au|vers|par)?\\s*',
    FR_NP,
    '\\b',
  ),
  pattern(
    '\\b(?:parler|discuter|échanger|avoir|veux|voudrais)\\s+(?:à|a|avec)?\\s*une\\s+(?:vraie\\s+|véritable\\s+)?personne\\b',
  ),
  // mettez-moi en relation, rappelez-moi, être rappelé
  pattern('\\b(?:mettez|mets|mettre)[- ]moi\\s+en\\s+(?:relation|contact)\\b'),
  pattern(
    "\\b(?:rappelez|rappelle)[- ](?:moi|nous)\\b|\\bme\\s+rappeler\\b(?!\\s+(?:de|d'|que|qu'))|\\bêtre\\s+rappelée?\\b|\\bdemande\\s+de\\s+rappel\\b",
  ),
  // un humain, je veux un conseiller
  pattern('\\bun\\s+(?:vrai\\s+|véritable\\s+)?(?:humain|être\\s+humain)\\b'),
  pattern(
    '\\b(?:veux|voudrais|voudrions|souhaite|souhaiterais|aimerais|exige|demande|réclame|préfère(?:rais)?)\\s+',
    '(?:parler\\s+(?:à|a|avec)\\s+)?(?:un|une)\\s+(?:vrai(?:e)?\\s+|véritable\\s+)?',
    '(?:humain|conseill(?:er|ère)|agent|opérat(?:eur|rice)|personne|responsable|superviseur)\\b',
  ),
  pattern(
    "^\\W*(?:un\\s+)?(?:humain|conseill(?:er|ère)|agent|opérat(?:eur|rice))(?:\\s+(?:svp|stp|s'il vous plaît|s'il te plaît|merci))?\\W*$",
  ),
  pattern(
    "\\b(?:humain|conseill(?:er|ère)|opérat(?:eur|rice))\\s*,?\\s*(?:svp|stp|s'il vous plaît)\\b",
  ),
  // pas un robot; y a-t-il quelqu'un
  pattern(
    "\\bpas\\s+(?:parler\\s+(?:à|a|avec)\\s+)?(?:de|d'|un|une|à un|avec un)\\s*(?:robot|bot|chatbot|machine)\\b",
  ),
  pattern(
    "\\by\\s+a[- ]t[- ]il\\s+(?:un\\s+)?(?:humain|quelqu'un|conseill(?:er|ère)|une\\s+vraie\\s+personne)\\b",
  ),
];

// ------------------------------------------------------------------ Spanish

const ES_NP =
  '(?:(?:un|una|el|la|algún|alguna|uno de sus|una de sus|su|sus)\\s+)?' +
  oneOf([
    'humano',
    'ser humano',
    'persona(?: real| de verdad| humana)?',
    'agente',
    'asesor(?:a)?',
    'operador(?:a)?',
    'representante',
    'alguien',
    'supervisor(?:a)?',
    'encargad[oa]',
    'gerente',
    'responsable',
    'ejecutiv[oa]',
    'emplead[oa]',
    'técnico',
    'especialista',
    'servicio al cliente',
    'atención al cliente',
    'soporte',
  ]);

const ES = [
  // hablar con una persona, comunicarme con un agente
  pattern(
    '\\b(?:hablar|charlar|conversar|chatear|comunicarme|comunicarnos|ponerme en contacto|hablarle)\\s+(?:con|a)\\s+',
    ES_NP,
    '\\b',
  ),
  // pásame con un agente, transfiéreme a una persona
  pattern(
    '\\b(?:pásame|pasame|pásenme|pasenme|páseme|paseme|comunícame|comunicame|comuníqueme|comuniqueme|transfiéreme|transfiereme|transfiérame|transfierame|conéctame|conectame|conécteme|conecteme|comuníquenme|comuniquenme|transfiéranme|transfieranme)\\s+(?:con|a|al)\\b',
  ),
  // quiero un humano, necesito un agente
  pattern(
    '\\b(?:quiero|quisiera|necesito|deseo|exijo|prefiero|me gustaría|pido|solicito)\\s+(?:hablar\\s+con\\s+)?',
    '(?:un|una|a un|a una)\\s+(?:humano|persona(?:\\s+real)?|agente|asesor(?:a)?|operador(?:a)?|representante|supervisor(?:a)?|encargad[oa]|gerente)\\b',
  ),
  // llámenme, que me llamen
  pattern(
    '\\b(?:llámenme|llamenme|llámame|llamame|llámeme|llameme|que me llamen|me pueden llamar|pueden llamarme|puede llamarme)\\b',
  ),
  // no quiero hablar con un bot
  pattern(
    '\\bno\\s+(?:quiero|deseo)\\s+(?:hablar\\s+con\\s+)?(?:un|una|el|la|este|esta)\\s+(?:bot|robot|máquina|chatbot|contestador)\\b',
  ),
  pattern(
    '^\\W*(?:un\\s+)?(?:humano|agente|operador(?:a)?|asesor(?:a)?|persona)(?:\\s+(?:por favor|porfa|ya))?\\W*$',
  ),
  pattern('\\b(?:humano|agente|operador(?:a)?|asesor(?:a)?)\\s*,?\\s*(?:por favor|porfa)\\b'),
  pattern('\\bhay\\s+(?:alguien|alg[uú]n\\s+humano|una\\s+persona(?:\\s+real)?)\\b'),
];

// ------------------------------------------------------------------ Italian

const IT_NP =
  "(?:(?:un|una|uno|un'|l'|il|la|qualche|un vostro|una vostra|uno dei vostri)\\s*)?(?:vero\\s+|vera\\s+|essere\\s+)?" +
  oneOf([
    'umano',
    'persona(?: vera| reale| fisica)?',
    'operat(?:ore|rice)',
    'consulente',
    'qualcuno',
    'addett[oa]',
    'responsabile',
    'assistente',
    'agente',
    'tecnico',
    'impiegat[oa]',
    'supervisore',
    'manager',
    'servizio clienti',
    'assistenza(?: clienti)?',
  ]);

const IT = [
  // parlare con un operatore, passarmi un consulente, mettermi in contatto con qualcuno
  pattern(
    "\\b(?:parlare|parlarne|chattare|conversare|essere messo in contatto|mettermi in contatto|mettere in contatto|passare|passarmi|passami|passatemi|mi passi|trasferire|trasferirmi|trasferiscimi|trasferitemi|mi trasferisca|collegarmi|collegami|mi colleghi|mettetemi in contatto|mi metta in contatto)\\s+(?:con|a|ad|al|alla|all')?\\s*",
    IT_NP,
    '\\b',
  ),
  // voglio un operatore
  pattern(
    "\\b(?:voglio|vorrei|desidero|preferirei|chiedo|esigo|ho bisogno di)\\s+(?:parlare\\s+con\\s+)?(?:un|una|un'|uno)\\s+",
    '(?:vero\\s+|vera\\s+)?(?:operat(?:ore|rice)|umano|persona(?:\\s+(?:vera|reale))?|consulente|addett[oa]|responsabile|agente)\\b',
  ),
  // richiamatemi
  pattern(
    '\\b(?:richiamatemi|richiamami|mi richiami|mi richiamate|mi potete richiamare|potete richiamarmi|può richiamarmi|essere richiamat[oa]|una richiamata)\\b',
  ),
  pattern(
    '\\b(?:operat(?:ore|rice)|umano|persona vera)\\s*,?\\s*(?:per favore|per piacere|subito)\\b',
  ),
  pattern(
    '^\\W*(?:un\\s+)?(?:operat(?:ore|rice)|umano|consulente)(?:\\s+(?:per favore|grazie|subito))?\\W*$',
  ),
  pattern(
    '\\bnon\\s+(?:voglio|desidero)\\s+(?:parlare\\s+con\\s+)?(?:un|il|questo)\\s+(?:bot|robot|chatbot|macchina)\\b',
  ),
  pattern("\\bc'è\\s+(?:un\\s+)?(?:qualcuno|operat(?:ore|rice)|umano|persona)\\b"),
];

// ------------------------------------------------------------------ Dutch

const NL_NP =
  '(?:(?:een|de|het|uw|jullie|iemand van)\\s+)?(?:echte?\\s+|levende\\s+)?' +
  oneOf([
    'mens',
    'medewerk(?:er|ster)',
    'persoon',
    'iemand',
    'klantenservice(?:medewerker)?',
    'supportmedewerker',
    'leidinggevende',
    'manager',
    'agent',
    'operator',
    'adviseur',
    'specialist',
    'collega',
    'supervisor',
  ]);

const NL = [
  // spreken met een medewerker; met een mens praten
  pattern(
    '\\b(?:spreken|praten|chatten|bellen|overleggen|in contact komen|contact hebben)\\s+(?:met|tegen)\\s+',
    NL_NP,
    '\\b',
  ),
  pattern(
    '\\bmet\\s+',
    NL_NP,
    '\\s+(?:\\w+\\s+){0,3}?(?:spreken|praten|chatten|bellen|verbonden|overleggen)\\b',
  ),
  // verbind me door met een medewerker, kunt u mij doorverbinden
  pattern(
    '\\b(?:verbind|verbindt|schakel|zet|stuur)\\s+(?:me|mij|ons)\\s+(?:\\w+\\s+){0,2}?(?:door\\s+)?(?:met|naar)\\s+',
    NL_NP,
    '\\b',
  ),
  pattern('\\bdoorverbinden\\b|\\bdoor\\s+(?:te\\s+)?verbinden\\b'),
  // ik wil een medewerker (not: toevoegen)
  pattern(
    '\\b(?:wil|wil graag|zou graag|heb|eis)\\s+(?:\\w+\\s+){0,2}?(?:een\\s+)?(?:echte?\\s+)?(?:mens|medewerker|persoon)\\b',
    '(?![^.!?]{0,20}\\b(?:toevoegen|uitnodigen|verwijderen|aanmaken)\\b)',
  ),
  // terugbellen
  pattern(
    '\\bterug\\s*(?:te\\s+)?bellen\\b|\\bterugbel(?:len|verzoek)\\b|\\bbel\\s+(?:me|mij)\\s+(?:\\w+\\s+)?(?:terug|op)\\b',
  ),
  pattern('\\b(?:kan|mag|wil)\\s+ik\\s+', NL_NP, '\\s+(?:spreken|bellen)\\b'),
  pattern(
    '^\\W*(?:een\\s+)?(?:mens|medewerker)(?:\\s+(?:graag|alstublieft|aub|a\\.u\\.b\\.))?\\W*$',
  ),
  pattern('\\b(?:mens|medewerker)\\s*,?\\s*(?:graag|alstublieft|aub)\\b'),
  pattern('\\bgeen\\s+(?:bot|robot|chatbot|computer)\\b'),
  pattern('\\bis\\s+er\\s+(?:een\\s+)?(?:echte?\\s+)?(?:mens|medewerker|iemand)\\b'),
];

// ------------------------------------------------------------------ Portuguese

const PT_NP =
  '(?:(?:um|uma|o|a|algum|alguma|seu|sua)\\s+)?' +
  oneOf([
    'ser humano',
    'humano',
    'pessoa(?: real| de verdade| humana)?',
    'atendente',
    'agente',
    'operador(?:a)?',
    'algu[ée]m',
    'representante',
    'supervisor(?:a)?',
    'gerente',
    'consultor(?:a)?',
    'técnico',
    'especialista',
    'responsável',
    'suporte',
    'atendimento(?: humano)?',
  ]);

const PT = [
  // falar com um atendente, ser atendido por um humano
  pattern(
    '\\b(?:falar|conversar|papear|ser atendid[oa]|ser transferid[oa])\\s+(?:com|por|a|para)\\s+',
    PT_NP,
    '\\b',
  ),
  // me transfira para um atendente
  pattern(
    '\\b(?:transfira|transfere|transferir|passe|passa|conecte|conecta|encaminhe|encaminha)(?:-me)?\\s+(?:para|pra|com|a)\\s+',
    PT_NP,
    '\\b',
  ),
  // quero um atendente; atendimento humano
  pattern(
    '\\b(?:quero|queria|preciso de|gostaria de|desejo|exijo|prefiro)\\s+(?:falar\\s+com\\s+)?(?:um|uma)\\s+',
    '(?:humano|pessoa(?:\\s+real)?|atendente|agente|operador(?:a)?|representante|supervisor(?:a)?|gerente)\\b',
  ),
  pattern('\\batendimento\\s+humano\\b'),
  // me liguem
  pattern(
    '\\b(?:me liguem|me ligue|liguem-me|ligue-me|retornem a ligação|retornem a chamada|podem me ligar|pode me ligar)\\b',
  ),
  pattern('^\\W*(?:um\\s+)?(?:humano|atendente|operador|agente)(?:\\s+(?:por favor|pfv|pf))?\\W*$'),
  pattern('\\b(?:atendente|humano|operador)\\s*,?\\s*(?:por favor|pfv)\\b'),
  pattern(
    '\\bn[ãa]o\\s+(?:quero|aguento)\\s+(?:mais\\s+)?(?:falar\\s+com\\s+)?(?:um|o|este|esse)?\\s*(?:rob[ôo]|bot|chatbot|máquina)\\b',
  ),
  pattern('\\btem\\s+(?:algu[ée]m|um\\s+humano|uma\\s+pessoa)\\s+(?:a[ií]|real|de verdade)\\b'),
];

// ------------------------------------------------------------------ Polish

const PL_NP =
  '(?:(?:jakimś|jakąś|prawdziwym|prawdziwą|żywym|żywą|waszym|waszą|kimś z)\\s+)?' +
  oneOf([
    'człowiek\\w*',
    'konsultant\\w*',
    'osob\\w*',
    'pracownik\\w*',
    'kimś',
    'agent\\w*',
    'doradc\\w*',
    'kierownik\\w*',
    'przełożon\\w*',
    'obsług\\w*',
    'specjalist\\w*',
    'technik\\w*',
    'operator\\w*',
  ]);

const PL = [
  // rozmawiać z konsultantem, połączyć z człowiekiem
  pattern(
    '\\b(?:rozmawiać|porozmawiać|rozmowy|rozmowę|pogadać|połączyć|połącz|połączcie|przełączyć|przełącz|przełączcie|przekierować|przekieruj)\\s+(?:się\\s+)?(?:mnie\\s+)?(?:z|ze|do)\\s+',
    PL_NP,
    '\\b',
  ),
  // chcę konsultanta, poproszę człowieka
  pattern(
    '\\b(?:chcę|chce|chciałbym|chciałabym|potrzebuję|potrzebuje|poproszę|prosz[ęe] o|żądam|wolę)\\s+',
    '(?:rozmawiać\\s+z\\s+|porozmawiać\\s+z\\s+)?(?:prawdziw\\w+\\s+|żyw\\w+\\s+)?',
    '(?:człowiek\\w*|konsultant\\w*|osob\\w*|pracownik\\w*|agent\\w*|doradc\\w*|kierownik\\w*|przełożon\\w*)\\b',
  ),
  pattern('\\bprosz[ęe]\\s+o\\s+(?:kontakt|telefon|oddzwonienie|połączenie|rozmowę)\\b'),
  // oddzwońcie
  pattern(
    '\\b(?:oddzwońcie|oddzwoń|oddzwonić|oddzwonienie|zadzwońcie do mnie|zadzwoń do mnie|proszę zadzwonić)\\b',
  ),
  pattern('^\\W*(?:konsultant|człowiek|agent)(?:\\s+(?:proszę|prosze|pilnie))?\\W*$'),
  pattern('\\b(?:konsultant|człowiek)\\w*\\s*,?\\s*prosz[ęe]\\b'),
  pattern(
    '\\bnie\\s+(?:chcę|chce)\\s+(?:rozmawiać\\s+z\\s+)?(?:bot\\w*|robot\\w*|maszyn\\w*|automat\\w*)\\b',
  ),
  pattern('\\bczy\\s+(?:jest\\s+)?(?:tu|tam)\\s+(?:jest\\s+)?(?:ktoś|człowiek|konsultant)\\b'),
];

// ------------------------------------------------------------------ Swedish

const SV_NP =
  '(?:(?:en|ett|någon|er|din|era|en av era)\\s+)?(?:riktig\\s+|verklig\\s+|levande\\s+|mänsklig\\s+)?' +
  oneOf([
    'människa',
    'person',
    'handläggare',
    'medarbetare',
    'någon',
    'agent',
    'kundtjänst',
    'kundservice',
    'support',
    'chef',
    'ansvarig',
    'tekniker',
    'handledare',
    'operatör',
    'rådgivare',
    'personal',
  ]);

const SV = [
  // prata med en människa, tala med en handläggare
  pattern(
    '\\b(?:prata|tala|snacka|chatta|pratar|talar|komma i kontakt)\\s+(?:med|till)\\s+',
    SV_NP,
    '\\b',
  ),
  // koppla mig vidare till en handläggare
  pattern(
    '\\b(?:koppla|skicka|slussa)\\s+(?:mig|oss)\\s+(?:vidare\\s+)?(?:till|med)\\s+',
    SV_NP,
    '\\b',
  ),
  pattern('\\bkoppla\\s+(?:mig|oss)\\s+vidare\\b'),
  // jag vill ha en människa
  pattern(
    '\\b(?:vill|vill ha|behöver|önskar|kräver|skulle vilja)\\s+(?:ha\\s+|prata\\s+med\\s+|tala\\s+med\\s+)?(?:en|ett)\\s+',
    '(?:riktig\\s+|verklig\\s+|levande\\s+)?(?:människa|person|handläggare|medarbetare|agent|rådgivare)\\b',
  ),
  // ring upp mig
  pattern(
    '\\b(?:ring upp mig|ring mig|ringa upp mig|ringa mig|bli uppringd|ring tillbaka|ringa tillbaka)\\b',
  ),
  pattern('^\\W*(?:en\\s+)?(?:människa|handläggare|person|agent)(?:\\s+(?:tack|snälla))?\\W*$'),
  pattern('\\b(?:människa|handläggare)\\s*,?\\s*(?:tack|snälla)\\b'),
  pattern(
    '\\b(?:inte|ingen)\\s+(?:prata\\s+med\\s+)?(?:en\\s+)?(?:bot|robot|chattbot|chatbot|maskin)\\b',
  ),
  pattern(
    '\\bfinns\\s+det\\s+(?:en\\s+)?(?:människa|någon\\s+(?:riktig|människa|där)|riktig\\s+person)\\b',
  ),
];

/** The lexicon, language by language, in the order they are tried. */
export const REQUEST_LEXICON: readonly { language: string; patterns: readonly RegExp[] }[] = [
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

/** The first wording of a language's lexicon that matches `text`. */
function matchIn(text: string, patterns: readonly RegExp[]): string | undefined {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return m[0].trim();
  }
  return undefined;
}

/**
 * The wording of the lexicon that asks for a person in `text` (already
 * normalised). When the wording of more than one language matches, the
 * language whose common words the text has most wins (the first in lexicon
 * order on a tie).
 */
export function matchLexicon(text: string): LexiconMatch | undefined {
  const matches = REQUEST_LEXICON.flatMap(({ language, patterns }) => {
    const phrase = matchIn(text, patterns);
    return phrase ? [{ language, phrase }] : [];
  });
  if (matches.length <= 1) return matches[0];
  const scores = languageScores(text);
  return matches.reduce((best, m) => (scores[m.language] > scores[best.language] ? m : best));
}
