/**
 * Money amounts written in a customer's message, in the formats people type:
 * a currency sign, ISO code or word before or after the number ("$2,350.00",
 * "1.900 €", "EUR 1200", "USD 1,200", "CHF 900", "R$ 3.000", "45 euros"),
 * either decimal separator and any common grouping ("1 200,50 €", "1'200.50",
 * "₹1,20,000"), and a magnitude ("£3k", "2.5k USD", "€1.2m", "3 mil euros").
 * A number without a currency next to it (an order number, a year, a count)
 * is no amount. Pure.
 *
 * Why not a library: the npm parsers tried (@microsoft/recognizers-text-number-with-unit,
 * parse-money, price-extractor) each read a culture's separators only ("USD 1,200" as 12 under
 * en-US, "1.900 €" as 1.9), or one amount per text, or miss "£3k", "CHF 900" and "¥50000".
 */

/** A money amount as written: its value, its ISO 4217 code when the sign names one ('' when not), the text. */
export interface WrittenAmount {
  value: number;
  currency: string;
  text: string;
}

/** Signs and prefixed signs, longest first, with their ISO code ('' when the sign names several currencies). */
const SIGNS: [string, string][] = [
  ['US$', 'USD'],
  ['CA$', 'CAD'],
  ['AU$', 'AUD'],
  ['NZ$', 'NZD'],
  ['HK$', 'HKD'],
  ['MX$', 'MXN'],
  ['R$', 'BRL'],
  ['C$', 'CAD'],
  ['A$', 'AUD'],
  ['S$', 'SGD'],
  ['$', 'USD'],
  ['€', 'EUR'],
  ['£', 'GBP'],
  ['¥', 'JPY'],
  ['￥', 'JPY'],
  ['₹', 'INR'],
  ['₩', 'KRW'],
  ['₽', 'RUB'],
  ['₺', 'TRY'],
  ['₪', 'ILS'],
  ['₱', 'PHP'],
  ['₫', 'VND'],
  ['₴', 'UAH'],
  ['₦', 'NGN'],
  ['฿', 'THB'],
  ['zł', 'PLN'],
  ['Kč', 'CZK'],
  ['kr', ''],
];

/** ISO codes also read in lower case ("eur 1200"): none of them is a word in the main European languages. */
const CODES_ANY_CASE =
  'USD EUR GBP CHF JPY CNY RMB INR BRL AUD CAD NZD SEK NOK DKK PLN CZK HUF RON BGN MXN ZAR SGD HKD KRW UAH ILS AED SAR'.split(
    ' ',
  );
/** ISO codes that are also words ("try", "mad", "pen"): read only in capitals. */
const CODES_UPPER_ONLY =
  'RUB TRY MAD PEN ARS CLP COP PHP THB IDR MYR VND NGN KES EGP TWD ISK'.split(' ');

/** Currency words, after the number ("45 euros", "700 dollars", "3 mil reais"), in the main European languages. */
const WORDS: [string, string][] = [
  ['(?:us )?dollars?|bucks|d[óo]lares|d[óo]lar|dollar[io]', 'USD'],
  ['euros?|eur[oó]', 'EUR'],
  ['(?:pounds?|quid)(?: sterling)?|sterling|libras?(?: esterlinas?)?|sterline|pfund', 'GBP'],
  ['(?:swiss )?francs?|franken|franchi|francos?', 'CHF'],
  ['yen(?:es)?', 'JPY'],
  ['yuan|renminbi', 'CNY'],
  ['rupees?|rupias?', 'INR'],
  ['reais|reales', 'BRL'],
  ['z[łl]oty(?:ch|s)?|z[łl]ote', 'PLN'],
  ['kronor|kroner|kronur|kron[ae]', ''],
  ['forint', 'HUF'],
  ['lei', 'RON'],
];

/** A magnitude after the number, with its factor. */
const MAGNITUDES: [string, number][] = [
  ['k|tsd\\.?|thousand|tausend|mil|mille', 1e3],
  ['m|mn|mio\\.?|mill?\\.?|million(?:s|en|i)?|millones|milhões|milhão|milione|miljoen', 1e6],
  ['bn|billion|mrd\\.?|milliarden?', 1e9],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SIGN = SIGNS.map(([s]) => escape(s)).join('|');
const CODE = [...CODES_ANY_CASE, ...CODES_UPPER_ONLY].join('|');
const WORD = WORDS.map(([w]) => w).join('|');
const whole = (alternatives: string) => new RegExp(`^(?:${alternatives})$`, 'iu');
/**
 * A number: groups of three after a separator (".", ",", "'", a space), or
 * Indian lakh grouping, or plain digits; an optional decimal part of one or
 * two digits. Before its currency, it is not glued to letters, other digits
 * or an id ("INV-2031 €…" is no amount of 2031).
 */
const NUMBER =
  "(?:\\d{1,3}(?:,\\d{2})+,\\d{3}|\\d{1,3}(?:[.,'’\\u00a0\\u202f ]\\d{3})+|\\d+)(?:[.,]\\d{1,2})?(?![.,]?\\d)";
const MAGNITUDE = `(?:\\s?(?:${MAGNITUDES.map(([m]) => m).join('|')}))?(?!\\p{L})`;
const BEFORE = `(?<![\\p{L}])(?<cur1>${SIGN}|${CODE})(?![\\p{L}])\\s?(?<num1>${NUMBER})(?<mag1>${MAGNITUDE})`;
const AFTER = `(?<![\\p{L}\\p{N}_\\-/#.,])(?<num2>${NUMBER})(?<mag2>${MAGNITUDE})\\s?(?<cur2>${SIGN}|${CODE}|${WORD})(?![\\p{L}])`;
const MONEY = new RegExp(`${BEFORE}|${AFTER}`, 'giu');

/**
 * The value of a written number, whichever the decimal separator:
 * "1.234,50", "1,234.50", "1 234,50" and "1'234.50" are 1234.5; "1,500" and
 * "1.500" are 1500 (one separator before exactly three digits groups them,
 * unless the whole part is 0); "12,5" is 12.5. NaN for what is no number.
 */
export function parseNumber(raw: string): number {
  const s = raw.replace(/['’\s\u00a0\u202f]/g, '');
  if (!/^\d[\d.,]*$/.test(s)) return NaN;
  const seps = s.match(/[.,]/g) ?? [];
  if (seps.length === 0) return Number(s);
  const last = Math.max(s.lastIndexOf('.'), s.lastIndexOf(','));
  const after = s.length - last - 1;
  const whole = s.slice(0, last);
  const mixed = new Set(seps).size > 1;
  const grouping = !mixed && (seps.length > 1 || (after === 3 && !/^0+$/.test(whole)));
  if (grouping) return Number(s.replace(/[.,]/g, ''));
  return Number(`${whole.replace(/[.,]/g, '')}.${s.slice(last + 1)}`);
}

function currencyOf(marker: string): string | undefined {
  const sign = SIGNS.find(([s]) => s.toLowerCase() === marker.toLowerCase());
  if (sign) return sign[1];
  const code = marker.toUpperCase();
  if (CODES_ANY_CASE.includes(code)) return code;
  if (CODES_UPPER_ONLY.includes(code)) return marker === code ? code : undefined;
  return WORDS.find(([w]) => whole(w).test(marker))?.[1] ?? '';
}

function factorOf(magnitude: string): number {
  const m = magnitude.trim();
  if (!m) return 1;
  return MAGNITUDES.find(([re]) => whole(re).test(m))?.[1] ?? 1;
}

/** The money amounts the text names, in the order written. */
export function amountsIn(text: string): WrittenAmount[] {
  const found: WrittenAmount[] = [];
  for (const m of text.matchAll(MONEY)) {
    const g = m.groups ?? {};
    const marker = (g.cur1 ?? g.cur2 ?? '').replace(/\s+/g, ' ');
    const currency = currencyOf(marker);
    if (currency === undefined) continue;
    const value = parseNumber(g.num1 ?? g.num2 ?? '') * factorOf(g.mag1 ?? g.mag2 ?? '');
    if (Number.isFinite(value) && value > 0)
      found.push({ value: Math.round(value * 100) / 100, currency, text: m[0].trim() });
  }
  return found;
}
