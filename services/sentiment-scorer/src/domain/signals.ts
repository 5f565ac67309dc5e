/** Support-specific signals that a sentiment score alone misses. */
export type Signal =
  | 'frustration'
  | 'urgency'
  | 'churn_threat'
  | 'shouting'
  | 'profanity'
  | 'still_failing'
  | 'money_lost'
  | 'repetition'
  | 'sentiment_shift';

/** The signals of the message's own words, in the order `signalsOf` lists them. */
const ORDER: Signal[] = [
  'frustration',
  'urgency',
  'churn_threat',
  'shouting',
  'profanity',
  'still_failing',
  'money_lost',
];

const PATTERNS: [Exclude<Signal, 'shouting' | 'repetition' | 'sentiment_shift'>, RegExp][] = [
  [
    'frustration',
    new RegExp(
      [
        /\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b/,
        /\bstill waiting\b/,
        /\b(useless|ridiculous|unacceptable|pointless|hopeless|terrible|awful|pathetic|incompetent)\b/,
        /\bwaste of (my |our )?time\b/,
        /\bfrustrat(ed|ing|ion)\b/,
        /\b(fed up|sick (and tired )?of)\b/,
        /\bhow many (more )?times\b/,
        /\b(again and again|over and over)\b/,
        /\bnothing (works|helps)\b/,
        /\b(you'?re|you are) not (listening|helping)\b/,
        /\bnot what I asked\b/,
        /\b(asked|told you|written|wrote|explained|called|contacted you)\b.{0,40}\b(twice|(three|four|five|several|many|\d+) times)\b/,
        /\bdid you (even )?read\b/,
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
        /\b(site|system|service|app|api|checkout|everything)( is| went| has been|'s been| was)? (down|offline)\b/,
        /\bit( is|'s| went| has been|'s been| was) (down|offline)\b/,
        /\bneed (it|this|them) (fixed |done |solved |back )?(now|today)\b/,
        /\b(time[- ]sensitive|deadline (is )?today)\b/,
        /\bcan'?t (send|issue) (any )?invoices\b/,
        /\bneed(s|ed)? (it|this|access|help|in|you)? ?now\b/,
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
    // A fix, an answer or a workaround the customer tried, and the problem is still there.
    'still_failing',
    new RegExp(
      [
        /\bstill (not|doesn'?t|does not|isn'?t|is not|won'?t|can'?t|cannot|haven'?t|hasn'?t|broken|fail(s|ing)?|crash(es|ing)?|break(s|ing)?|down|locked|stuck|wrong|missing)\b/,
        /\b(did(n'?t| not)|does(n'?t| not)) (help|work|fix (it|anything|the problem))\b/,
        /\b(failed|broke|crashed|stopped working|happened|went down) again\b/,
        /\bstill (get|getting|see|seeing|have|having) (the |that |this )?(same )?(error|problem|issue|bug|message)\b/,
        /\b(same|that) (error|problem|issue) (again|still|keeps)\b/,
        /\bstill the same (error|problem|issue|bug|message|result)\b/,
        /\b(keeps?|kept) (failing|crashing|breaking|happening|timing out|giving (me )?(an |the |that )?error)\b/,
        /\b(tried|did|followed|done|redid) (that|this|it|those|everything|all|(the|your) (steps|instructions|advice|article))\b.{0,40}\b(still|no luck|nothing|(did|does)(n'?t| not) (work|help|fix))\b/,
        /\b(has|have)(n'?t| not) been (fixed|resolved)\b/,
        /\b(broken|failing|down) again\b/,
      ]
        .map((r) => r.source)
        .join('|'),
      'i',
    ),
  ],
  [
    // The customer is out of pocket: charged wrongly or twice, a refund that does not come, sales or work lost.
    'money_lost',
    new RegExp(
      [
        /\b(charged|billed) (me |us )?(twice|two times|double|three times|again|(the )?wrong amount)\b/,
        /\bdouble[- ]?(charged|billed|charge)\b/,
        /\bovercharg(ed|ing|e)\b/,
        /\b(lost|losing|lose) (real )?(money|sales|revenue|customers|orders|income|business|payments)\b/,
        /\b(lost|losing|lose|wasted) (a |an |half a |a whole |(two|three|\d+) )?(full )?(day|days|hours?|week|weeks|morning|afternoon)('s|s)? (of )?(work|sales|data)\b/,
        /\b(where is|no sign of|haven'?t (got|gotten|received|seen)|never (got|received)|still no|waiting for) (my |our |the |a )?refund\b/,
        /\b(unauthori[sz]ed|unexpected|extra|hidden|mystery) (charges?|fees?|payments?|debits?)\b/,
        /\b(money|payment|funds) (is |was |has |have )?(gone|missing|lost|disappeared|vanished)\b/,
        /\bcharged (me |us )?for (something|a plan|a subscription|an? \w+) (I|we) (didn'?t|did not|never)\b/,
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
  return ORDER.filter((s) => found.includes(s));
}
