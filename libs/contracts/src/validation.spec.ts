import { parseInboundJson, ValidationError } from './validation';

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

  it('rejects a body that is not an object', () => {
    expect(issuesOf([1, 2])).toEqual([expect.objectContaining({ field: '(body)' })]);
  });
});
