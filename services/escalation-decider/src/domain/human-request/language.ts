// Which of the decider's languages a text reads as, by its common words: the
// learned classifier was trained on English wording only, so it is asked about
// English text only (a German or Polish message the lexicon does not know is no
// request to an English model); and when wording of two lexicons matches
// ("humano por favor" is Spanish and Portuguese), the text's words decide.

const WORDS: Record<string, string> = {
  en: `the a an to i you me my is are am can could would will please pls plz want need with and for of this
    that it how what do does don't dont not get talk speak someone somebody anyone person human agent just now
    help there in on be have i'm im i'd let your we us our real live rep representative bot`,
  de: `ich und der die das nicht mit bitte ist ein eine einen einem sie mich möchte kann für zu es wie mein
    meine kein keinen mensch menschen mitarbeiter sprechen brauche`,
  fr: `je le la les un une et est pas avec vous moi pour des du ne à parler merci veux voudrais besoin humain
    conseiller mon ma`,
  es: `el la los las un una y es no con por favor quiero para que de me mi hablar necesito persona humano
    agente hola gracias usted atención ayuda`,
  it: `il lo la un una e è non con per che di mi voglio vorrei parlare operatore persona grazie ho`,
  nl: `de het een en is niet met ik wil je u mij van voor graag spreken praten medewerker mens geen`,
  pt: `o a um uma e é não nao com por favor para que de me eu quero falar atendente pessoa preciso humano
    atendimento olá obrigado obrigada você ajuda`,
  pl: `i nie z w się jest to na chcę proszę mnie do z konsultantem człowiekiem rozmawiać`,
  sv: `jag och är inte med en ett att det vill mig på för prata människa handläggare tack`,
};

const SETS = Object.fromEntries(
  Object.entries(WORDS).map(([lang, words]) => [lang, new Set(words.split(/\s+/))]),
);

/** How many of the text's words are common words of each language. */
export function languageScores(text: string): Record<string, number> {
  const tokens = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter(Boolean);
  return Object.fromEntries(
    Object.entries(SETS).map(([lang, set]) => [lang, tokens.filter((t) => set.has(t)).length]),
  );
}

/**
 * True unless the text's words are more those of another of the decider's
 * languages than English ones (a text with no word of any is taken as English:
 * "agnet plz").
 */
export function looksEnglish(text: string): boolean {
  const scores = languageScores(text);
  return Object.entries(scores).every(([lang, n]) => lang === 'en' || n <= scores.en);
}
