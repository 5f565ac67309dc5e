import { bodyIssues, headerIssues, InputLimits, pathIssues, queryIssues } from './input-checks';

const rules = (issues: { field: string; rule: string }[]) =>
  issues.map(({ field, rule }) => `${field}:${rule}`);

describe('the shared input checks', () => {
  describe('path', () => {
    it('passes ordinary and percent-encoded UTF-8 segments', () => {
      expect(pathIssues('/v1/agents/ada%40example.com')).toEqual([]);
      expect(pathIssues('/v1/teams/%C3%9Cbersetzung%20%F0%9F%98%80')).toEqual([]);
      expect(pathIssues('/')).toEqual([]);
    });

    it.each([
      ['NUL', '/v1/agents/a%00b', 'control_character'],
      ['a control character', '/v1/agents/%07', 'control_character'],
      ['a line feed', '/v1/agents/a%0Ab', 'control_character'],
      ['DEL', '/v1/agents/%7F', 'control_character'],
      ['an encoded lone surrogate (invalid UTF-8)', '/v1/agents/%ED%A0%80', 'encoding'],
      ['a cut-off sequence', '/v1/agents/%E0%A4%A', 'encoding'],
      ['a bad escape', '/v1/agents/%zz', 'encoding'],
      ['a raw non-ASCII character', '/v1/agents/caf\u00e9', 'encoding'],
      [
        'an over-long segment',
        `/v1/agents/${'a'.repeat(InputLimits.pathSegment + 1)}`,
        'max_length',
      ],
    ])('rejects %s', (_, path, rule) => {
      expect(rules(pathIssues(path))).toEqual([`path:${rule}`]);
    });
  });

  describe('query', () => {
    it('passes ordinary parameters, repeated ones, "+" for space and tabs or newlines in values', () => {
      expect(queryIssues('')).toEqual([]);
      expect(queryIssues('limit=10&status=open&status=closed&q=hello+world&flag')).toEqual([]);
      expect(queryIssues('note=line%0Anext%09tab')).toEqual([]);
    });

    it('names each bad parameter', () => {
      expect(rules(queryIssues('limit=%00&from=%zz&ok=1&to=%ED%A0%80'))).toEqual([
        'query.limit:control_character',
        'query.from:encoding',
        'query.to:encoding',
      ]);
    });

    it('rejects control characters in names, escaping them in the field', () => {
      expect(rules(queryIssues('a%00b=1'))).toEqual(['query.a\\u0000b:control_character']);
    });

    it('bounds the number of parameters and the length of names and values', () => {
      const many = Array.from({ length: InputLimits.queryParameters + 1 }, (_, i) => `p${i}=1`);
      expect(rules(queryIssues(many.join('&')))).toEqual(['query:max_items']);
      expect(rules(queryIssues(`q=${'x'.repeat(InputLimits.queryValue + 1)}`))).toEqual([
        'query.q:max_length',
      ]);
      expect(rules(queryIssues(`${'n'.repeat(InputLimits.queryName + 1)}=1`))).toEqual([
        `query.${'n'.repeat(64)}…:max_length`,
      ]);
    });
  });

  describe('headers', () => {
    it('passes ordinary values and tabs', () => {
      expect(headerIssues(['Authorization', 'Bearer abc', 'X-Note', 'a\tb'])).toEqual([]);
    });

    it('rejects control characters and over-long values, naming the header in lower case', () => {
      expect(
        rules(
          headerIssues([
            'X-Correlation-Id',
            'a\u007fb',
            'Idempotency-Key',
            'k'.repeat(InputLimits.headerValue + 1),
          ]),
        ),
      ).toEqual(['header.x-correlation-id:control_character', 'header.idempotency-key:max_length']);
    });
  });

  describe('body', () => {
    it('passes ordinary JSON, including newlines, tabs and emoji in strings', () => {
      expect(
        bodyIssues({ text: 'Hello\r\n\tworld 😀', n: 1, list: [{ a: null, b: true }], s: '' }),
      ).toEqual([]);
      expect(bodyIssues('# Markdown\n\nbody')).toEqual([]);
      expect(bodyIssues(42)).toEqual([]);
    });

    it('names the path of each bad string', () => {
      expect(
        rules(
          bodyIssues({
            text: 'a\u0000b',
            articles: [{ title: 'ok' }, { title: '\ud800' }],
            nested: { deeper: { bell: '\u0007' } },
          }),
        ),
      ).toEqual([
        'body.text:control_character',
        'body.articles[1].title:unicode',
        'body.nested.deeper.bell:control_character',
      ]);
    });

    it('checks keys, a text body and the nesting depth', () => {
      expect(rules(bodyIssues({ 'a\u0000': 1 }))).toEqual(['body.a\\u0000:control_character']);
      expect(rules(bodyIssues({ ['k'.repeat(InputLimits.bodyKey + 1)]: 1 }))).toEqual([
        `body.${'k'.repeat(64)}…:max_length`,
      ]);
      expect(rules(bodyIssues('text with \u0000'))).toEqual(['body:control_character']);
      let deep: unknown = 'leaf';
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(rules(bodyIssues(deep))).toEqual([
        `body${'[0]'.repeat(InputLimits.bodyDepth)}:max_depth`,
      ]);
    });

    it('reports at most the first issues of a body full of bad strings', () => {
      const body = Array.from({ length: 1000 }, () => 'x\u0000');
      expect(bodyIssues(body)).toHaveLength(InputLimits.issues);
    });

    it('accepts a well-formed surrogate pair but not a lone low surrogate', () => {
      expect(bodyIssues({ s: '\ud83d\ude00' })).toEqual([]);
      expect(rules(bodyIssues({ s: 'a\ude00' }))).toEqual(['body.s:unicode']);
    });
  });
});
