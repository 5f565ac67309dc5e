import {
  askForDetails,
  asksHowTo,
  extractDetails,
  mergeDetails,
  missingDetails,
  type Detail,
} from './intake';

const found = (text: string) =>
  Object.fromEntries(extractDetails(text, 'm1').map((d) => [d.name, d.value]));

describe('extractDetails', () => {
  it('given an e-mail and an invoice number, when read, then both are found in order with the message id', () => {
    expect(
      extractDetails('My email is jane.doe@acme.co.uk and invoice INV-2024-0042 is wrong', 'msg-7'),
    ).toEqual([
      { name: 'account_email', value: 'jane.doe@acme.co.uk', messageId: 'msg-7' },
      { name: 'invoice_or_order_number', value: 'INV-2024-0042', messageId: 'msg-7' },
    ]);
  });

  it.each([
    ['invoice INV-2024-0042 is wrong', 'INV-2024-0042'],
    ['INV-2024-0042 is wrong', 'INV-2024-0042'],
    ['see inv_88812 please', 'INV_88812'],
    ['ORD-99812 never arrived', 'ORD-99812'],
    ['TXN123456 failed', 'TXN123456'],
    ['PO-2024-0042 is not matched', 'PO-2024-0042'],
    ['order #A12345 is missing', 'A12345'],
    ['Invoice number: 100234', '100234'],
    ['my receipt no. r-778899', 'R-778899'],
    ['Reference: ABC-12345', 'ABC-12345'],
    ['la facture n° 2024-118 est fausse', '2024-118'],
    ['Rechnung Nr. 555123 ist falsch', '555123'],
    ['mi pedido 88231 no llegó', '88231'],
  ])('finds the reference in %j', (text, value) => {
    expect(found(text).invoice_or_order_number).toBe(value);
  });

  it('given a reference-like word inside the e-mail address, when read, then it is not taken as a reference', () => {
    expect(extractDetails('contact me at inv123@example.com', 'm1')).toEqual([
      { name: 'account_email', value: 'inv123@example.com', messageId: 'm1' },
    ]);
  });

  it.each([
    ['The export fails with "Connection reset by peer" every time', 'Connection reset by peer'],
    ['it shows “Card declined” and stops', 'Card declined'],
    ["it says 'Access denied' when I log in", 'Access denied'],
    ['L\'export échoue avec le message "Délai dépassé"', 'Délai dépassé'],
  ])('finds the quoted error in %j', (text, value) => {
    expect(found(text).error_message).toBe(value);
  });

  // Apostrophes in contractions and elisions are not quotes.
  it.each([
    ["The error says I can't log in, it's weird"],
    ["Export failed and the message isn't clear, it's been days"],
    ['Le message d\'erreur "Session expirée" apparaît'],
  ])('does not take apostrophes for quotes in %j', (text) => {
    const error = found(text).error_message;
    expect(error === undefined || error === 'Session expirée').toBe(true);
  });

  it.each([
    ['Sync stopped.\nError: timeout while syncing ledger', 'timeout while syncing ledger'],
    ['I get error 502 on upload', 'error 502'],
    ['the API returns status 429', 'status 429'],
    ['it shows code E1234', 'code E1234'],
    ['it throws TypeError: cannot read property x', 'TypeError: cannot read property x'],
    ['a ValidationException in the import', 'ValidationException'],
  ])('finds the error in %j', (text, value) => {
    expect(found(text).error_message).toBe(value);
  });

  it.each([
    ['1. Open settings\n2. Click export\n3. It crashes'],
    ['Steps:\n1) open the app\n2) tap sync'],
    ['Steps to reproduce: open app, tap sync'],
    ['First I open the report and then it freezes'],
    ['When I click export the page goes blank'],
  ])('finds steps in %j', (text) => {
    expect(found(text).steps_to_reproduce).toBe(text.trim());
  });

  it('given a long message with steps, when read, then the steps value is cut at 600 characters', () => {
    const text = `1. Open settings\n2. Click export\n${'x'.repeat(1000)}`;
    expect(found(text).steps_to_reproduce).toHaveLength(600);
  });

  it('given every detail, when read, then they come in the fixed order', () => {
    const details = extractDetails(
      'Steps:\n1. Open invoice INV-100200\n2. Click pay\nIt says "Payment failed". I am bob@example.com',
      'm1',
    );
    expect(details.map((d) => d.name)).toEqual([
      'account_email',
      'invoice_or_order_number',
      'error_message',
      'steps_to_reproduce',
    ]);
  });

  it.each([
    ['Hello there, how are you?'],
    ['How do I reset my password?'],
    ['Is there a way to export everything?'],
    ['I paid 2 invoices last week'],
  ])('finds nothing in the ordinary question %j', (text) => {
    expect(extractDetails(text, 'm1')).toEqual([]);
  });
});

describe('asksHowTo', () => {
  it.each([
    'How do I change the e-mail address my invoices go to?',
    'how can we switch to yearly billing',
    'Hi! Where can I download last year’s receipts as PDF?',
    'Is it possible to pay by bank transfer instead of card?',
    'Can I add a second payment method?',
    'Comment puis-je changer l’adresse de facturation ?',
    'Wie kann ich die Rechnungsadresse ändern?',
    '¿Cómo puedo cambiar mi método de pago?',
  ])('given a question that only asks how: %s', (text) => {
    expect(asksHowTo(text)).toBe(true);
  });

  it.each([
    'How do I get my money back? You charged me twice this month.',
    'How can I dispute invoice INV-20931?',
    'Where can I see why I was charged $49 yesterday?',
    'How do I fix the sync error on my invoices?',
    'My invoice shows the wrong VAT number',
    'I need the invoice for order 123456',
    'Can I get a refund, the payment didn’t go through but money left my account',
  ])('given a concrete case or no how-question: %s', (text) => {
    expect(asksHowTo(text)).toBe(false);
  });
});

describe('missingDetails', () => {
  const charged = ['We were charged twice this month'];

  it('given nothing known, when a customer reports a charge, then both details are missing in the profile order', () => {
    expect(missingDetails('billing', [], charged)).toEqual([
      'account_email',
      'invoice_or_order_number',
    ]);
  });

  it('given a known e-mail, when billing, then only the reference is missing', () => {
    expect(missingDetails('billing', [{ name: 'account_email' }], charged)).toEqual([
      'invoice_or_order_number',
    ]);
  });

  it('given a general question of an intent that needs details only for a case, then none are missing', () => {
    expect(missingDetails('billing', [], ['Do you offer a discount for non-profits?'])).toEqual([]);
    expect(missingDetails('technical_integration', [], ['How do I create a webhook?'])).toEqual([]);
    expect(missingDetails('compliance_privacy', [], ['Is there a DPA I can sign?'])).toEqual([]);
  });

  it('given the case reported in an earlier message, when the customer writes again, then the details are still missing', () => {
    expect(
      missingDetails('technical_integration', [], ['Sync to Xero fails every night', 'any news?']),
    ).toEqual(['error_message']);
  });

  it('given a bug report, when nothing is known, then error and steps are missing', () => {
    expect(missingDetails('bug_report', [{ name: 'account_email' }])).toEqual([
      'error_message',
      'steps_to_reproduce',
    ]);
  });

  it.each([['how_to'], ['feedback'], ['smalltalk'], ['no_such_intent']])(
    'given %s, when checked, then nothing is required',
    (intent) => {
      expect(missingDetails(intent, [])).toEqual([]);
    },
  );
});

describe('mergeDetails', () => {
  const d = (name: Detail['name'], value: string, messageId: string): Detail => ({
    name,
    value,
    messageId,
  });

  it('given a newer value of a known detail, when merged, then the latest wins and the others stay', () => {
    const known = [d('account_email', 'old@example.com', 'm1'), d('error_message', 'E1', 'm1')];
    const merged = mergeDetails(known, [
      d('account_email', 'new@example.com', 'm2'),
      d('invoice_or_order_number', 'INV-1001', 'm2'),
    ]);
    expect(merged).toEqual([
      d('account_email', 'new@example.com', 'm2'),
      d('error_message', 'E1', 'm1'),
      d('invoice_or_order_number', 'INV-1001', 'm2'),
    ]);
    expect(known[0].value).toBe('old@example.com');
  });

  it('given nothing new, when merged, then the known details are kept', () => {
    const known = [d('account_email', 'a@example.com', 'm1')];
    expect(mergeDetails(known, [])).toEqual(known);
    expect(mergeDetails([], known)).toEqual(known);
  });
});

describe('askForDetails', () => {
  it('given one detail in English, when asked, then it names that detail', () => {
    expect(askForDetails(['account_email'], 'en')).toBe(
      'So that the right person can act on this without asking you again, could you send me the e-mail address of your account?',
    );
  });

  it('given two details in French, when asked, then they are joined with "et"', () => {
    expect(askForDetails(['account_email', 'invoice_or_order_number'], 'fr-CA')).toBe(
      "Pour que la bonne personne puisse traiter votre demande sans vous redemander, pourriez-vous m'envoyer l'adresse e-mail de votre compte et le numéro de facture ou de commande ?",
    );
  });

  it('given three details in German, when asked, then commas and "und" join them', () => {
    const text = askForDetails(['error_message', 'steps_to_reproduce', 'account_email'], 'de-AT');
    expect(text).toMatch(/^Damit die richtige Person/);
    expect(text).toContain(
      'die genaue Fehlermeldung, die Schritte, die zum Problem führen und die E-Mail-Adresse Ihres Kontos',
    );
  });

  it('given Spanish, when asked, then the question is in Spanish', () => {
    expect(askForDetails(['invoice_or_order_number'], 'es')).toBe(
      'Para que la persona adecuada pueda ocuparse sin volver a preguntarle, ¿podría enviarme el número de factura o de pedido?',
    );
  });

  it.each([['ja'], ['pt-BR'], [''], ['x']])(
    'given the unsupported locale %j, when asked, then it falls back to English',
    (locale) => {
      expect(askForDetails(['error_message'], locale)).toBe(
        'So that the right person can act on this without asking you again, could you send me the exact error message you see?',
      );
    },
  );
});
