import { create } from '@bufbuild/protobuf';
import { InboundMessageSchema } from './gen/support/v1/inbound_pb';
import {
  parseCsatJson,
  parseInboundJson,
  validateInboundMessage,
  ValidationError,
} from './validation';

const valid = {
  channel: 'web',
  externalConversationId: 'chat-1',
  customerId: 'cust-1',
  text: 'How do I reset my password?',
  idempotencyKey: 'k-1',
};

function issuesOf(body: unknown) {
  try {
    parseInboundJson(body);
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  return [];
}

describe('inbound message validation', () => {
  it('accepts a well-formed message and snake_case names', () => {
    const msg = parseInboundJson({
      ...valid,
      page_url: 'https://app.example.com/billing',
      locale: 'de-AT',
    });
    expect(msg.pageUrl).toBe('https://app.example.com/billing');
    expect(msg.locale).toBe('de-AT');
  });

  it('names a missing required field', () => {
    expect(issuesOf({ ...valid, text: '   ' })).toEqual([
      expect.objectContaining({ field: 'text', rule: 'required' }),
    ]);
  });

  it('names a field of the wrong type and unknown fields', () => {
    const issues = issuesOf({ ...valid, customerId: 42, colour: 'red' });
    expect(issues.map((i) => [i.field, i.rule])).toEqual([
      ['customerId', 'type'],
      ['colour', 'unknown_field'],
    ]);
  });

  it('rejects a non-http page URL, a bad locale, a bad time and a too-long text', () => {
    const issues = issuesOf({
      ...valid,
      pageUrl: 'javascript:alert(1)',
      locale: 'english please',
      sentAt: 'yesterday',
      text: 'x'.repeat(8001),
    });
    expect(issues.map((i) => i.field).sort()).toEqual(['locale', 'pageUrl', 'sentAt', 'text']);
  });

  it('takes the page as an absolute URL or as a path on the site', () => {
    for (const pageUrl of [
      'https://app.example.com/settings/security',
      '/billing/invoices',
      '/billing/invoices?tab=open#latest',
      '/',
    ])
      expect(parseInboundJson({ ...valid, pageUrl }).pageUrl).toBe(pageUrl);
    for (const pageUrl of [
      'billing/invoices',
      '//evil.example/billing',
      '/\\evil.example',
      '/billing invoices',
      'ftp://files.example.com/a',
      'javascript:alert(1)',
    ])
      expect(issuesOf({ ...valid, pageUrl })).toEqual([
        expect.objectContaining({ field: 'pageUrl', rule: 'url' }),
      ]);
  });

  it('rejects a body that is not an object', () => {
    expect(issuesOf([1, 2])).toEqual([expect.objectContaining({ field: '(body)' })]);
  });
});

describe('satisfaction ratings (csat)', () => {
  const fieldsAndRules = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ValidationError) return err.issues.map((i) => [i.field, i.rule]);
      throw err;
    }
    return [];
  };

  it('accepts a rating in place of a message: the text may then be empty', () => {
    const msg = parseInboundJson({
      ...valid,
      text: '',
      csat: { requestId: 'req-1', score: 5, comment: 'Quick and clear' },
    });
    expect(msg.csat).toEqual(
      expect.objectContaining({ requestId: 'req-1', score: 5, comment: 'Quick and clear' }),
    );
    expect(issuesOf({ ...valid, text: '', csat: { score: 1 } })).toEqual([]);
  });

  it('still requires the text of a message without a rating', () => {
    expect(issuesOf({ ...valid, text: '' })).toEqual([
      expect.objectContaining({ field: 'text', rule: 'required' }),
    ]);
  });

  it.each([0, 6, -1])('names csat.score when it is %i', (score) => {
    expect(fieldsAndRules(() => parseInboundJson({ ...valid, csat: { score } }))).toEqual([
      ['csat.score', 'range'],
    ]);
  });

  it('names csat.score when it is not a whole number, and a comment over 2000 characters', () => {
    expect(fieldsAndRules(() => parseInboundJson({ ...valid, csat: { score: 4.5 } }))).toEqual([
      ['csat.score', 'type'],
    ]);
    expect(
      fieldsAndRules(() =>
        parseInboundJson({ ...valid, csat: { score: 3, comment: 'x'.repeat(2001) } }),
      ),
    ).toEqual([['csat.comment', 'max_length']]);
    expect(
      fieldsAndRules(() =>
        parseInboundJson({ ...valid, csat: { score: 3, comment: 'x'.repeat(2000) } }),
      ),
    ).toEqual([]);
  });

  it('checks a decoded rating from Kafka by the same rules (a missing score is 0)', () => {
    const message = create(InboundMessageSchema, {
      ...valid,
      text: '',
      csat: { score: 0, comment: 'y'.repeat(2001) },
    });
    expect(validateInboundMessage(message).map((i) => [i.field, i.rule])).toEqual([
      ['csat.score', 'range'],
      ['csat.comment', 'max_length'],
    ]);
  });

  it('parses a rating body for HTTP and names its fields without a prefix', () => {
    expect(parseCsatJson({ score: 4, comment: 'ok', requestId: 'r-1' })).toEqual(
      expect.objectContaining({ score: 4, comment: 'ok', requestId: 'r-1' }),
    );
    expect(parseCsatJson({ score: 2 })).toEqual(
      expect.objectContaining({ score: 2, comment: '', requestId: '' }),
    );
    expect(fieldsAndRules(() => parseCsatJson({}))).toEqual([['score', 'required']]);
    expect(fieldsAndRules(() => parseCsatJson({ score: '5' }))).toEqual([['score', 'type']]);
    expect(fieldsAndRules(() => parseCsatJson({ score: 9 }))).toEqual([['score', 'range']]);
    expect(fieldsAndRules(() => parseCsatJson({ score: 3, comment: 7, stars: 3 }))).toEqual([
      ['comment', 'type'],
      ['stars', 'unknown_field'],
    ]);
    expect(fieldsAndRules(() => parseCsatJson([]))).toEqual([['(body)', 'type']]);
  });
});
