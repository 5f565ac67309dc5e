import { amountsIn, parseNumber } from './amounts';

const values = (text: string) => amountsIn(text).map((a) => a.value);

describe('parseNumber', () => {
  it.each([
    ['1.234,50', 1234.5],
    ['1,234.50', 1234.5],
    ['1 234,50', 1234.5],
    ['1\u00a0234,50', 1234.5],
    ["1'234.50", 1234.5],
    ['1,500', 1500],
    ['1.500', 1500],
    ['1.234.567', 1234567],
    ['1,234,567.8', 1234567.8],
    ['1,20,000', 120000],
    ['12,5', 12.5],
    ['2.5', 2.5],
    ['0.500', 0.5],
    ['99', 99],
  ])('reads "%s" as %d, whichever the decimal separator', (raw, value) => {
    expect(parseNumber(raw)).toBe(value);
  });

  it('is NaN for what is no number', () => {
    expect(parseNumber('')).toBeNaN();
    expect(parseNumber('abc')).toBeNaN();
  });
});

describe('amountsIn', () => {
  it.each([
    ['I was charged $2,350.00 for nothing', 2350, 'USD'],
    ['you took 1.900 € from our account', 1900, 'EUR'],
    ['EUR 1200 went out', 1200, 'EUR'],
    ['eur 1200 went out', 1200, 'EUR'],
    ['refund the £3k please', 3000, 'GBP'],
    ['2.5k USD left the card', 2500, 'USD'],
    ['USD 1,200 billed', 1200, 'USD'],
    ['1 200,50 € zu viel', 1200.5, 'EUR'],
    ['CHF 900 wrongly taken', 900, 'CHF'],
    ['¥50000 charged', 50000, 'JPY'],
    ['₹12,000 deducted', 12000, 'INR'],
    ['₹1,20,000 deducted', 120000, 'INR'],
    ['cobraram R$ 3.000 de uma vez', 3000, 'BRL'],
    ['US$ 640 for a plan we cancelled', 640, 'USD'],
    ['it came to 700 dollars', 700, 'USD'],
    ['I paid 45 euros', 45, 'EUR'],
    ['€1.250,00 again', 1250, 'EUR'],
    ['€ 1 250 again', 1250, 'EUR'],
    ['a €1.2m contract', 1_200_000, 'EUR'],
    ['3 mil reais', 3000, 'BRL'],
    ['250 zł za dużo', 250, 'PLN'],
    ['1 499 kr dras två gånger', 1499, ''],
    ['SEK 1499', 1499, 'SEK'],
    ["1'200.50 CHF", 1200.5, 'CHF'],
    ['we paid GBP1,999.99', 1999.99, 'GBP'],
  ])('reads "%s" as %d %s', (text, value, currency) => {
    expect(amountsIn(text)).toEqual([expect.objectContaining({ value, currency })]);
  });

  it('finds every amount, in the order written', () => {
    expect(values('30 dollars, then £12.99 and EUR 1.234,50')).toEqual([30, 12.99, 1234.5]);
    expect(values('You charged €49 and then €1,250.00')).toEqual([49, 1250]);
  });

  it('ignores numbers without a currency: order and invoice numbers, years, counts, times', () => {
    expect(values('Order 12345 from 2026, 3 seats, at 10:30')).toEqual([]);
    expect(values('order 12345 for €30')).toEqual([30]);
    expect(values('INV-2031 €1,250')).toEqual([1250]);
    expect(values('invoice #2031 was €80')).toEqual([80]);
  });

  it('does not take words for currency codes or magnitudes', () => {
    // "try", "rub", "real" and "mad" are words; "b" and "m" start words here.
    expect(values('try 500 times, rub 20 in, 500 real users, mad 300 days')).toEqual([]);
    expect(values('$30 but then $500 monthly')).toEqual([30, 500]);
    expect(values('TRY 500 on the card')).toEqual([500]);
    expect(values('the USDT 500 wallet')).toEqual([]);
  });

  it('reads the magnitude in several languages', () => {
    expect(values('€2 Mio. zu viel')).toEqual([2_000_000]);
    expect(values('5 mille euros')).toEqual([5000]);
    expect(values('$4 million')).toEqual([4_000_000]);
    expect(values('€500 kindly refund')).toEqual([500]);
  });
});
