import { chatPagePolicy, checkOrigin, normaliseOrigin } from './origins';

describe('widget origins', () => {
  it('accepts origins as browsers send them, and nothing else', () => {
    expect(normaliseOrigin('https://www.example.com')).toBe('https://www.example.com');
    expect(normaliseOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    for (const bad of [
      'https://example.com/',
      'https://example.com/x',
      'ftp://example.com',
      'example.com',
      '*',
    ])
      expect(normaliseOrigin(bad)).toBeUndefined();
  });

  it("allows the key's origins and ingest's own page, and refuses others", () => {
    const allowed = ['https://shop.example'];
    expect(checkOrigin(undefined, allowed, 'ingest:3001')).toBe('absent');
    expect(checkOrigin('https://shop.example', allowed, 'ingest:3001')).toBe('allowed');
    expect(checkOrigin('http://ingest:3001', allowed, 'ingest:3001')).toBe('same');
    expect(checkOrigin('https://evil.example', allowed, 'ingest:3001')).toBe('refused');
    expect(checkOrigin('null', allowed, 'ingest:3001')).toBe('refused');
  });

  it("lets only the key's origins frame the chat page", () => {
    expect(chatPagePolicy(['https://a.example', 'https://b.example'])).toContain(
      'frame-ancestors https://a.example https://b.example',
    );
    expect(chatPagePolicy([])).toContain("frame-ancestors 'none'");
    expect(chatPagePolicy([])).toContain("script-src 'self'");
  });
});
