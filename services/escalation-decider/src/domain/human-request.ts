/**
 * Detects an explicit request for a person, in the main European languages.
 * Honoured at once: the decider never argues with it or waits for the AI.
 */
const PATTERNS: { lang: string; re: RegExp }[] = [
  {
    lang: 'en',
    re: /\b(talk|speak|chat|connect|transfer|put|get)\b.{0,25}\b(human|person|agent|representative|rep|operator|someone real|real person|somebody|member of (your )?(staff|team))\b|\b(human|real person|live agent|agent|operator)\s*(please|pls|now)\b|\bescalate (this|me)\b|^\s*(human|agent|operator|representative)\s*[.!?]*\s*$/i,
  },
  {
    lang: 'de',
    re: /\b(mit|einen?)\b.{0,30}\b(mensch(en)?|mitarbeiter(in)?|berater(in)?|kundenberater|menschlichen|echten person)\b|\bmensch bitte\b/i,
  },
  {
    lang: 'fr',
    re: /\b(parler|discuter)\b.{0,30}\b(humain|personne|conseill(er|ère)|agent|opérateur|quelqu'un)\b|\bun humain\b/i,
  },
  {
    lang: 'es',
    re: /\b(hablar|comunicarme|pasar)\b.{0,30}\b(humano|persona|agente|operador(a)?|asesor(a)?)\b/i,
  },
  {
    lang: 'it',
    re: /\b(parlare|passare)\b.{0,30}\b(umano|persona|operatore|operatrice|consulente)\b/i,
  },
  {
    lang: 'nl',
    re: /\b(spreken|praten)\b.{0,30}\b(mens|medewerker|persoon)\b|\bmet een (mens|medewerker)\b/i,
  },
  { lang: 'pt', re: /\b(falar|conversar)\b.{0,30}\b(humano|pessoa|atendente|agente|operador)\b/i },
  { lang: 'pl', re: /\b(rozmawiać|porozmawiać)\b.{0,30}\b(człowiekiem|konsultantem|osobą)\b/i },
  { lang: 'sv', re: /\b(prata|tala)\b.{0,30}\b(människa|person|handläggare)\b/i },
];

export interface HumanRequest {
  language: string;
  phrase: string;
}

export function detectHumanRequest(text: string): HumanRequest | undefined {
  for (const { lang, re } of PATTERNS) {
    const m = re.exec(text);
    if (m) return { language: lang, phrase: m[0].trim() };
  }
  return undefined;
}
