import { languageOf } from './kb/language.js';
import { profileOf, type DetailName } from './taxonomy.js';

export interface Detail {
  name: DetailName;
  value: string;
  messageId: string;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const REFERENCE =
  /\b(?:invoice|inv|order|ord|receipt|transaction|txn|charge|payment|ref(?:erence)?|bill|facture|rechnung|factura|pedido|commande|bestellung)\s*(?:number|num|no\.?|nr\.?|n°|id|#)?\s*[#:]?\s*((?:[A-Z]{1,5}[-_]?)\d[\w-]{2,30}|\d{4,}[\w-]*)/i;
const BARE_REFERENCE = /\b((?:INV|ORD|RCP|TXN|CH|PO)[-_]?\d[\w-]{2,30})\b/i;
const QUOTED_ERROR =
  /\b(?:error|exception|fails?|failed|says?|shows?|message|warning|erreur|fehler|mensaje)\b[^"“`\n]{0,40}?(?:["“`]([^"”`\n]{4,240})["”`]|(?<![\p{L}\d])'([^'\n]{4,240})'(?![\p{L}\d]))/iu;
const CODED_ERROR =
  /\b(?:(?:error|code|status|http)\s*[:#]?\s*(\d{3}|[A-Z]{1,6}[-_]?\d{2,6})\b|([A-Z][A-Za-z]+(?:Error|Exception))\b(?::\s*([^\n]{0,200}))?)/i;
const ERROR_LINE = /^\s*(?:error|fatal|exception)\s*:\s*(.{4,240})$/im;
const NUMBERED_STEPS = /^\s*\d+[.)]\s+.+\n(?:.*\n)*?\s*\d+[.)]\s+.+/m;
const NARRATED_STEPS =
  /\b(?:steps?(?: to reproduce)?\s*:|(?:first|1st)\b[^.]{3,}\b(?:then|and then|after that)\b|when i\b[^.]{3,}\b(?:it|the (?:page|app|screen|button|sync|export))\b)/i;

/** The details one message gives, in a fixed order: e-mail, reference, error, steps. */
export function extractDetails(text: string, messageId: string): Detail[] {
  const found: Detail[] = [];
  const email = EMAIL.exec(text);
  if (email) found.push({ name: 'account_email', value: email[0], messageId });
  const ref = BARE_REFERENCE.exec(text) ?? REFERENCE.exec(text);
  if (ref && !(email && email[0].includes(ref[1])))
    found.push({ name: 'invoice_or_order_number', value: ref[1].toUpperCase(), messageId });
  const quoted = QUOTED_ERROR.exec(text);
  const line = ERROR_LINE.exec(text);
  const coded = CODED_ERROR.exec(text);
  const error = quoted?.[1] ?? quoted?.[2] ?? line?.[1] ?? (coded ? coded[0] : undefined);
  if (error) found.push({ name: 'error_message', value: error.trim().slice(0, 240), messageId });
  if (NUMBERED_STEPS.test(text) || NARRATED_STEPS.test(text))
    found.push({ name: 'steps_to_reproduce', value: text.trim().slice(0, 600), messageId });
  return found;
}

/** A question about how or where to do something, or whether it can be done, in the main European languages. */
const HOW_TO =
  /^[\s¿¡"'(]*(?:(?:hi|hello|hey|hallo|bonjour|hola|ciao)\b[^a-z]*)?(?:how (?:do|can|could|should|would) (?:i|we|you|one)|how to|where (?:do|can|could|should) (?:i|we)|where is the (?:option|setting)|what(?:'s| is) the (?:best )?way to|is (?:it|there) (?:possible|a way|an? (?:option|setting))|can (?:i|we)|could (?:i|we)|do you (?:support|offer|allow)|comment (?:puis-je|pouvons-nous|faire|est-ce qu)|où (?:puis-je|trouver)|est-il possible|wie (?:kann|können|ändere|finde|lege)|wo (?:kann|finde)|ist es möglich|kann ich|cómo (?:puedo|hago|se)|dónde (?:puedo|encuentro)|es posible|puedo|come (?:posso|faccio|si)|dove (?:posso|trovo)|è possibile|posso|hoe (?:kan|kunnen|wijzig|verander)|waar (?:kan|vind)|como (?:posso|faço)|onde (?:posso|encontro))\b/i;

/**
 * A concrete case: something that happened or fails (a charge, an error, a
 * refusal), an amount, a date, or words of a problem. Its details are needed
 * even when the customer phrases it as a question ("how do I get my money back
 * for the charge I didn't authorise?").
 */
const CONCRETE_CASE =
  /\b(?:was|were|got|been|has been|have been|get) (?:charged|billed|debited|refused|declined|rejected|locked|blocked|suspended|deleted|hacked)|\b(?:charged|billed|debited) (?:me|us|twice|double)|\b(?:i|we) (?:paid|was charged|were charged|lost|cannot|can'?t|couldn'?t|didn'?t|never)\b|\b(?:twice|double|wrong|incorrect|unauthori[sz]ed|fraud\w*|error\w*|fail\w*|broken|still|again|yesterday|last (?:week|month|night)|(?:does|did|is|was)n'?t|not (?:working|arrived|received))\b|[$€£¥]\s?\d|\d\s?(?:€|eur|usd|gbp)\b/i;

/**
 * The message only asks how to do something (change a billing e-mail, find
 * an invoice), with no concrete case to investigate: it gets the answer, not
 * a request for the details a case would need.
 */
export function asksHowTo(text: string): boolean {
  const plain = text.replace(/[\u2018\u2019]/g, "'");
  return (
    HOW_TO.test(plain) &&
    !CONCRETE_CASE.test(plain) &&
    !extractDetails(text, '').some((d) => d.name === 'invoice_or_order_number')
  );
}

/**
 * The details an intent needs that are not known yet, in the profile's order;
 * none when the intent needs them only for a specific case and the
 * conversation (`texts`: the customer's messages so far) reports none.
 */
export function missingDetails(
  intent: string,
  known: { name: string }[],
  texts: string[] = [],
): DetailName[] {
  const profile = profileOf(intent);
  if (profile.caseCue && !texts.some((t) => profile.caseCue!.test(t))) return [];
  const have = new Set(known.map((d) => d.name));
  return profile.required.filter((name) => !have.has(name));
}

/** Known details with this message's merged in: one per name, the latest wins (the conversation model's rule). */
export { mergeDetails } from '@support/conversation';

const LABELS: Record<string, Record<DetailName, string>> = {
  en: {
    account_email: 'the e-mail address of your account',
    invoice_or_order_number: 'the invoice or order number',
    error_message: 'the exact error message you see',
    steps_to_reproduce: 'the steps that lead to the problem',
  },
  fr: {
    account_email: "l'adresse e-mail de votre compte",
    invoice_or_order_number: 'le numéro de facture ou de commande',
    error_message: "le message d'erreur exact",
    steps_to_reproduce: 'les étapes qui mènent au problème',
  },
  de: {
    account_email: 'die E-Mail-Adresse Ihres Kontos',
    invoice_or_order_number: 'die Rechnungs- oder Bestellnummer',
    error_message: 'die genaue Fehlermeldung',
    steps_to_reproduce: 'die Schritte, die zum Problem führen',
  },
  es: {
    account_email: 'el correo electrónico de su cuenta',
    invoice_or_order_number: 'el número de factura o de pedido',
    error_message: 'el mensaje de error exacto',
    steps_to_reproduce: 'los pasos que llevan al problema',
  },
};

const ASK: Record<string, (items: string) => string> = {
  en: (items) =>
    `So that the right person can act on this without asking you again, could you send me ${items}?`,
  fr: (items) =>
    `Pour que la bonne personne puisse traiter votre demande sans vous redemander, pourriez-vous m'envoyer ${items} ?`,
  de: (items) =>
    `Damit die richtige Person Ihr Anliegen bearbeiten kann, ohne erneut nachzufragen, senden Sie mir bitte ${items}.`,
  es: (items) =>
    `Para que la persona adecuada pueda ocuparse sin volver a preguntarle, ¿podría enviarme ${items}?`,
};

const AND: Record<string, string> = { en: 'and', fr: 'et', de: 'und', es: 'y' };

/** The question asking for the missing details, in the customer's language when we have it. */
export function askForDetails(missing: DetailName[], locale: string): string {
  if (missing.length === 0) return '';
  const lang = LABELS[languageOf(locale)] ? languageOf(locale) : 'en';
  const items = missing.map((m) => LABELS[lang][m]);
  const joined =
    items.length <= 1
      ? (items[0] ?? '')
      : `${items.slice(0, -1).join(', ')} ${AND[lang]} ${items[items.length - 1]}`;
  return ASK[lang](joined);
}
