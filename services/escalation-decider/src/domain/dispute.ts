/**
 * Whether a customer disputes a charge, from their wording in the main
 * European languages: a chargeback or dispute, a duplicate or double charge
 * ("charged twice", "billed two times", "doppelt abgebucht", "prélevé deux
 * fois"), an overcharge or wrong amount, a charge they did not authorise, a
 * refund or their money back, or a charge they object to ("I was charged
 * $X but …"). Pure.
 */
/** Up to 60 characters of the same sentence (a decimal point, as in "2.5k", does not end it). */
const CLAUSE = '(?:[^.!?\\n]|\\.(?=\\d)){0,60}';

const CUES = [
  // English
  'disput\\p{L}*|chargebacks?|charge[- ]backs?|contest(?:ing|ed)? (?:the|this|a|my|our) (?:charge|payment|invoice|bill)',
  '(?:charged|billed|debited|invoiced|paid|charging|billing)(?: (?:me|us))? (?:twice|double|two times|2 times|2x|three times|again|more than once)',
  'double[- ]?(?:charged|billed|charges?|billing|payments?)|duplicated? (?:charges?|payments?|transactions?|billing|invoices?|debits?)',
  'over[- ]?charg\\p{L}*|charged (?:me |us )?(?:too much|extra|more than|the wrong)',
  '(?:wrong|incorrect)(?:ly)? (?:charged|billed|charges?|amount|invoice|bill)',
  "did(?:n't| not) (?:authori[sz]e|order|agree to|sign up for|approve)|unauthori[sz]ed (?:charges?|payments?|transactions?|debits?)",
  // A refund the customer asks for, not refunds in general ("you may issue refunds", "refund policy")
  'refund (?:me|us|it|this|that|the|my|our|what|all)|refund (?:of|for)|(?:been|be|get|got|was|were|not|never) refunded',
  "(?:want|need|demand|request|requesting|get|expect|expecting|waiting for|ask for|asking for|claim|claiming|where(?:'s| is)) (?:a |an |my |our |the |full |partial |immediate )*refund",
  'money back|reimburse (?:me|us)|reimbursement',
  `(?:charged|billed|debited|invoiced|you took)(?: (?:me|us))? ${CLAUSE}(?<!\\p{L})(?:but|instead of|although|even though|whereas|after|despite|(?:we|i) only|wrong(?:ly)?|incorrect(?:ly)?|by mistake|in error)`,
  `(?:invoice|bill|statement|total)(?!\\p{L})${CLAUSE}(?<!\\p{L})(?:but (?:we|i) only|(?:doesn't|does not|don't|didn't) match)`,
  'overpa(?:id|ying|yment)|unexpected (?:charges?|payments?|debits?)|(?:unknown|unrecogni[sz]ed|mysterious|strange) (?:charges?|payments?|debits?|transactions?)',
  'reverse (?:the|this|that|my|our) (?:\\p{L}+ )?(?:charge|payment|transaction)|credit (?:the difference|us back|me back)|refund request',
  `(?:charged|billed|debited|invoiced|you took|taken (?:from|out)|deducted|withdrew|withdrawn)(?!\\p{L})${CLAUSE}(?<!\\p{L})(?:twice|two times|2 times|2x|double)`,
  // German
  '(?:doppelt|zweimal|zwei mal) (?:abgebucht|berechnet|belastet|bezahlt|abgerechnet)|doppelte (?:abbuchung|belastung|zahlung|rechnung)',
  'falsch\\p{L}* (?:rechnung|betrag|abbuchung|belastung)|zu viel (?:berechnet|abgebucht|bezahlt|belastet)',
  'rückerstattung|erstatt\\p{L}*|geld zurück|widersp\\p{L}*|zurückbuch\\p{L}*|rücklastschrift|unberechtigt\\p{L}* (?:abbuchung|belastung)',
  // French
  'contest\\p{L}*|litige|(?:prélevé|débité|facturé|payé)e?s? deux fois|double (?:prélèvement|facturation|débit|paiement)|en double',
  'rembours\\p{L}*|trop (?:facturé|perçu|prélevé|payé)|erreur de facturation|factur\\p{L}* (?:erronée|incorrecte)',
  // Spanish
  'reembols\\p{L}*|devoluci[oó]n|devu[eé]lv\\p{L}* (?:mi|el|nuestro) dinero|cobr\\p{L}* (?:dos veces|de más|doble|duplicad\\p{L}*)',
  `cargos? (?:duplicado|doble|indebido|no autorizado)|disputa|reclamaci[oó]n|me (?:cobraron|han cobrado) ${CLAUSE}pero`,
  // Italian
  'rimbors\\p{L}*|addebit\\p{L}* (?:due volte|doppi\\p{L}*|in eccesso|non autorizzat\\p{L}*)|doppio addebito|pagato due volte',
  // Dutch
  '(?:dubbel|twee keer|2 keer) (?:afgeschreven|betaald|gefactureerd|in rekening gebracht)|terugbetal\\p{L}*|geld terug',
  'onterecht (?:afgeschreven|in rekening gebracht|gefactureerd)|betwist\\p{L}*|te ?veel (?:betaald|afgeschreven|gefactureerd)',
  // Portuguese
  'estorno|cobrad[oa]s? (?:duas vezes|a mais|em dobro)|cobran[çc]a (?:duplicada|indevida|em dobro)|paguei duas vezes|devolu[çc][ãa]o',
  // Polish, Swedish
  'zwrot (?:pieniędzy|środków|płatności)|dwukrotnie (?:pobran\\p{L}*|obciążon\\p{L}*)|podwójn\\p{L}* (?:obciążeni\\p{L}*|płatnoś\\p{L}*)|reklamacj\\p{L}*',
  'återbetalning|dubbeldebiter\\p{L}*|debiterad\\p{L}* två gånger|pengarna tillbaka',
];

const DISPUTE = new RegExp(`(?<!\\p{L})(?:${CUES.join('|')})(?!\\p{L})`, 'iu');

/** The customer disputes a charge in this text. */
export function disputesCharge(text: string): boolean {
  return DISPUTE.test(text.replace(/[’`´]/g, "'"));
}
