// Whether a text reads as English: the learned classifier was trained on
// English wording only, so it is asked about English text only (a German or
// Polish message the lexicon does not know is no request to an English model).

const WORDS: Record<string, readonly string[]> = {
  en: `the a an to i you me my is are am can could would will please pls plz want need with and for of this
    that it how what do does don't dont not get talk speak someone somebody anyone person human agent just now
    help there in on be have i'm im i'd let your we us our real live rep representative bot`.split(
    /\s+/,
  ),
  de: `ich und der die das nicht mit bitte ist ein eine einen einem sie mich möchte kann für zu es wie mein
    meine kein keinen mensch menschen mitarbeiter sprechen brauche`.split(/\s+/),
  fr: `je le la les un une et est pas avec vous moi pour des du ne à parler merci veux voudrais besoin humain
    conseiller mon ma`.split(/\s+/),
  es: `el la los las un una y es no con por favor quiero para que de me mi hablar necesito persona humano
    agente`.split(/\s+/),
  it: `il lo la un una e è non con per che di mi voglio vorrei parlare operatore persona grazie ho`.split(
    /\s+/,
  ),
  nl: `de het een en is niet met ik wil je u mij van voor graag spreken praten medewerker mens geen`.split(
    /\s+/,
  ),
  pt: `o a um uma e é não nao com por para que de me eu quero falar atendente pessoa preciso`.split(
    /\s+/,
  ),
  pl: `i nie z w się jest to na chcę proszę mnie do z konsultantem człowiekiem rozmawiać`.split(
    /\s+/,
  ),
  sv: `jag och är inte med en ett att det vill mig på för prata människa handläggare tack`.split(
    /\s+/,
  ),
};

const SETS = Object.fromEntries(Object.entries(WORDS).map(([lang, list]) => [lang, new Set(list)]));

/**
 * True unless the text's words are more those of another of the decider's
 * languages than English ones (a text with no word of any is taken as English:
 * "agnet plz").
 */
export function looksEnglish(text: string): boolean {
  const tokens = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter(Boolean);
  const count = (lang: string) => tokens.filter((t) => SETS[lang].has(t)).length;
  const english = count('en');
  return Object.keys(SETS).every((lang) => lang === 'en' || count(lang) <= english);
}
