/** Support-specific signals that a sentiment score alone misses. */
export type Signal =
  | 'frustration'
  | 'urgency'
  | 'churn_threat'
  | 'shouting'
  | 'profanity'
  | 'repetition'
  | 'sentiment_shift';

const PATTERNS: [Exclude<Signal, 'shouting' | 'repetition' | 'sentiment_shift'>, RegExp][] = [
  [
    'frustration',
    new RegExp(
      [
        /\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b/,
        /\bstill (not|doesn'?t|does not|isn'?t|is not|won'?t|can'?t|cannot|broken|failing|waiting)\b/,
        /\b(useless|ridiculous|unacceptable|pointless|hopeless|terrible|awful|pathetic|incompetent)\b/,
        /\bwaste of (my |our )?time\b/,
        /\bfrustrat(ed|ing|ion)\b/,
        /\b(fed up|sick (and tired )?of)\b/,
        /\bhow many (more )?times\b/,
        /\b(again and again|over and over)\b/,
        /\bnothing (works|helps)\b/,
        /\b(you'?re|you are) not (listening|helping)\b/,
        /\bnot what I asked\b/,
      ]
        .map((r) => r.source)
        .join('|'),
      'i',
    ),
  ],
  [
    'urgency',
    new RegExp(
      [
        /\b(urgent(ly)?|asap|emergency|outage|critical|immediately)\b/,
        /\bas soon as possible\b/,
        /\bright (now|away)\b/,
        /\bproduction (is |went )?(down|broken|offline)\b/,
        /\b(site|system|service|app|api|checkout|everything) (is |went )?(down|offline)\b/,
        /\b(time[- ]sensitive|deadline (is )?today)\b/,
        /\bcan'?t (send|issue) (any )?invoices\b/,
        /\bneed(s|ed)? (it|this|access|help|in|you)? ?now\b|\bnow\s*!/,
        /\b(dringend|sofort|umgehend|urgence|urgente|immédiatement|tout de suite|au plus vite|inmediatamente|cuanto antes|lo antes posible|subito|immediatamente|al più presto|spoed|meteen|onmiddellijk|imediatamente|o mais rápido possível|pilne|natychmiast|brådskande|omedelbart)\b/,
      ]
        .map((r) => r.source)
        .join('|'),
      'i',
    ),
  ],
  [
    'churn_threat',
    new RegExp(
      [
        /\bcancel(l?ing)? (my|our|the) (account|subscription|plan|contract)\b/,
        /\b(close|delete|terminate) (my|our|the) (account|subscription|contract)\b/,
        /\bswitch(ing)? (over )?to (?!(monthly|yearly|annual|the \w+ plan|(starter|growth|scale)\b|sso\b|saml\b))\w+/,
        /\b(move|moving|go|going|take|taking) (our|my) (business|money) elsewhere\b/,
        /\b(go|going|look|looking) (elsewhere|at (other|another) (provider|tool|vendor)s?)\b/,
        /\b(leave|leaving) (ledgerly|you)\b/,
        /\b(not|won'?t) (be )?renew(ing)?\b/,
      ]
        .map((r) => r.source)
        .join('|'),
      'i',
    ),
  ],
  [
    'profanity',
    /\b(f+u+c+k\w*|shit\w*|bullshit|damn(ed|it)?|crap(py)?|wtf|bastards?|bitch\w*|assholes?|piss(ed)? off)\b/i,
  ],
];

/** Mostly capitals: at least three all-capital words and 60% of the letters upper-case. */
export function isShouting(text: string): boolean {
  const letters = text.match(/\p{L}/gu) ?? [];
  const upper = text.match(/\p{Lu}/gu) ?? [];
  const capitalWords = (text.match(/\p{L}{2,}/gu) ?? []).filter(
    (w) => w === w.toUpperCase() && w !== w.toLowerCase(),
  );
  return capitalWords.length >= 3 && upper.length / letters.length >= 0.6;
}

/** The signals found in a customer message, in a fixed order. */
export function signalsOf(text: string): Signal[] {
  const found: Signal[] = PATTERNS.filter(([, re]) => re.test(text)).map(([signal]) => signal);
  if (isShouting(text)) found.push('shouting');
  const order: Signal[] = ['frustration', 'urgency', 'churn_threat', 'shouting', 'profanity'];
  return order.filter((s) => found.includes(s));
}
