import { redactedUrl, samplerFromEnv } from './sdk.js';

describe('the SDK settings', () => {
  it('samples every trace by default, following the parent; OTEL_TRACES_SAMPLER as specified', () => {
    expect(samplerFromEnv({}).toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe(
      'AlwaysOffSampler',
    );
    expect(
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).toString(),
    ).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0\.25\}/);
    expect(
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: 'x',
      }).toString(),
    ).toBe('TraceIdRatioBased{1}');
  });

  it("keeps an outgoing request's query names but none of their values", () => {
    expect(redactedUrl('https://hooks.example.com', '/in?token=s3cret&x=1&x=2')).toEqual({
      'url.full': 'https://hooks.example.com/in?token=REDACTED&x=REDACTED',
      'url.query': '?token=REDACTED&x=REDACTED',
    });
    expect(redactedUrl('http://127.0.0.1:4318', '/v1/traces')).toEqual({
      'url.full': 'http://127.0.0.1:4318/v1/traces',
      'url.query': '',
    });
  });
});
