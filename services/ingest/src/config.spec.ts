import { loadConfig } from '@support/service-kit';
import { configSchema } from './config';

const base = {
  INGEST_API_KEYS: 'channel-key-0123456789abcdef',
  STREAM_TOKEN_SECRET: 'x'.repeat(32),
};
const widget = {
  id: 'site',
  key: 'wk_0123456789abcdefghij',
  origins: ['https://www.example.com'],
};
const load = (keys: unknown) =>
  loadConfig(configSchema, { ...base, INGEST_WIDGET_KEYS: JSON.stringify(keys) });

describe('INGEST_WIDGET_KEYS', () => {
  it('takes keys with their origins, identity secret and limits (defaults filled in)', () => {
    expect(load([widget]).INGEST_WIDGET_KEYS).toEqual([
      {
        ...widget,
        requireIdentity: false,
        requestsPerMinute: 1200,
        requestsPerMinutePerAddress: 120,
      },
    ]);
    expect(loadConfig(configSchema, base).INGEST_WIDGET_KEYS).toEqual([]);
  });

  it.each([
    ['not JSON', '{', /INGEST_WIDGET_KEYS: must be JSON/],
    [
      'an origin with a path',
      [{ ...widget, origins: ['https://x.example/chat'] }],
      /INGEST_WIDGET_KEYS\.0\.origins\.0: must be an origin/,
    ],
    [
      'a short key',
      [{ ...widget, key: 'short' }],
      /INGEST_WIDGET_KEYS\.0\.key: must be at least 20/,
    ],
    [
      'identity required without a secret',
      [{ ...widget, requireIdentity: true }],
      /INGEST_WIDGET_KEYS\.0\.identitySecret: is required when requireIdentity/,
    ],
    [
      'a repeated id',
      [widget, { ...widget, key: 'wk_another-key-0123456789' }],
      /INGEST_WIDGET_KEYS\.1\.id: repeats/,
    ],
    ['an unknown setting', [{ ...widget, origin: 'https://x.example' }], /INGEST_WIDGET_KEYS\.0/],
    [
      'a channel key as a widget key',
      [{ ...widget, key: base.INGEST_API_KEYS }],
      /INGEST_WIDGET_KEYS\.0\.key: must differ from every INGEST_API_KEYS/,
    ],
  ])('refuses %s, naming the setting', (_what, keys, message) => {
    expect(() =>
      loadConfig(configSchema, {
        ...base,
        INGEST_WIDGET_KEYS: typeof keys === 'string' ? keys : JSON.stringify(keys),
      }),
    ).toThrow(message);
  });
});
