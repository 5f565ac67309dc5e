import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import {
  endPublishSpan,
  extractTraceContext,
  inBatchSpan,
  inConsumeSpan,
  injectTraceContext,
  startPublishSpan,
  type RecordHeaders,
} from './kafka.js';
import { activeTraceIds } from './spans.js';
import { setTracingEnabled, tracer } from './state.js';
import { tracingConfigured } from './start.js';
import { installTestTracing } from './testing.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let uninstall: () => void;

beforeAll(() => {
  uninstall = installTestTracing(provider);
});

afterAll(async () => {
  uninstall();
  await provider.shutdown();
});

beforeEach(() => {
  exporter.reset();
  setTracingEnabled(true);
});

/** Headers as a consumer hands them over: every value a Buffer. */
const asFetched = (headers: RecordHeaders): RecordHeaders =>
  Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v))]),
  ) as RecordHeaders;

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('trace context in Kafka record headers', () => {
  it('round-trips through headers whose values are Buffers', () => {
    const span = tracer().startSpan('origin');
    const headers: RecordHeaders = { 'event-id': 'e-1' };
    injectTraceContext(headers, trace.setSpan(context.active(), span));
    span.end();
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const extracted = trace.getSpanContext(extractTraceContext(asFetched(headers)));
    expect(extracted).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      isRemote: true,
    });
  });

  it("honours a channel adapter's own traceparent, whatever the case of its name, and tracestate", () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const headers = asFetched({ Traceparent: traceparent, tracestate: 'vendor=abc' });
    const extracted = trace.getSpanContext(extractTraceContext(headers));
    expect(extracted?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(extracted?.spanId).toBe('00f067aa0ba902b7');
    expect(extracted?.traceState?.get('vendor')).toBe('abc');
  });

  it('extracts nothing from headers without trace context (or no headers)', () => {
    expect(trace.getSpanContext(extractTraceContext({ 'event-id': Buffer.from('x') }))).toBe(
      undefined,
    );
    expect(trace.getSpanContext(extractTraceContext(undefined))).toBe(undefined);
    expect(
      trace.getSpanContext(extractTraceContext({ traceparent: Buffer.from('not a traceparent') })),
    ).toBe(undefined);
  });
});

describe('publish and consume spans', () => {
  it('a publish span is a child of the active span, carried in the headers, ended on the ack', async () => {
    const parent = tracer().startSpan('http request');
    const headers: RecordHeaders = {};
    context.with(trace.setSpan(context.active(), parent), () =>
      startPublishSpan(headers, { eventId: 'e-1', eventType: 'support.v1.X' }),
    );
    expect(spans()).toHaveLength(0);
    endPublishSpan(headers, { topic: 'conversation.events', key: Buffer.from('conv-1') });
    parent.end();

    const [send] = spans();
    expect(send.name).toBe('send conversation.events');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(parentOf(send)).toBe(parent.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'conversation.events',
      'messaging.kafka.message.key': 'conv-1',
      'messaging.message.id': 'e-1',
      'support.event_type': 'support.v1.X',
    });
    expect(String(headers.traceparent)).toContain(send.spanContext().spanId);
    // Ending twice (or headers without a span) does nothing.
    endPublishSpan(headers, { topic: 'conversation.events' });
    endPublishSpan({}, { topic: 'conversation.events' });
    endPublishSpan(undefined, { topic: 'conversation.events' });
    expect(spans()).toHaveLength(2);
  });

  it('a refused record ends its publish span with the error', () => {
    const headers: RecordHeaders = {};
    startPublishSpan(headers);
    endPublishSpan(headers, { topic: 't' }, new Error('MESSAGE_TOO_LARGE'));
    const [send] = spans();
    expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'MESSAGE_TOO_LARGE' });
  });

  it('a consumed record continues the publisher’s trace, and what its handler publishes is a child', async () => {
    // Service A publishes.
    const a = tracer().startSpan('service A');
    const published: RecordHeaders = {};
    context.with(trace.setSpan(context.active(), a), () => startPublishSpan(published));
    endPublishSpan(published, { topic: 'conversation.events' });
    a.end();

    // Service B consumes it and publishes in turn.
    const next: RecordHeaders = {};
    const result = await inConsumeSpan(
      {
        topic: 'conversation.events',
        partition: 3,
        offset: '42',
        key: 'conv-1',
        group: 'b.log',
        headers: asFetched(published),
        eventId: 'e-2',
      },
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        expect(activeTraceIds()?.traceId).toBe(a.spanContext().traceId);
        startPublishSpan(next);
        return 'handled';
      },
    );
    expect(result).toBe('handled');
    endPublishSpan(next, { topic: 'support.outbound' });

    const byName = new Map(spans().map((s) => [s.name, s]));
    const send = byName.get('send conversation.events')!;
    const proc = byName.get('process conversation.events')!;
    const sendNext = byName.get('send support.outbound')!;
    expect(proc.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(proc)).toBe(send.spanContext().spanId);
    expect(parentOf(sendNext)).toBe(proc.spanContext().spanId);
    for (const s of [send, proc, sendNext])
      expect(s.spanContext().traceId).toBe(a.spanContext().traceId);
    expect(proc.attributes).toMatchObject({
      'messaging.destination.name': 'conversation.events',
      'messaging.destination.partition.id': '3',
      'messaging.kafka.offset': 42,
      'messaging.consumer.group.name': 'b.log',
      'messaging.kafka.message.key': 'conv-1',
      'messaging.message.id': 'e-2',
    });
  });

  it('a batch is one span linked to the trace of each of its records', async () => {
    const published = ['one', 'two'].map((name) => {
      const root = tracer().startSpan(name);
      const headers: RecordHeaders = {};
      context.with(trace.setSpan(context.active(), root), () => startPublishSpan(headers));
      endPublishSpan(headers, { topic: 'conversation.events' });
      root.end();
      return { root, headers: asFetched(headers) };
    });
    const records = published.map(({ headers }, i) => ({
      topic: 'conversation.events',
      partition: 1,
      offset: String(10 + i),
      group: 'metrics.read-model',
      headers,
    }));
    await inBatchSpan([...records, { ...records[0], offset: '12', headers: {} }], async () => {
      expect(activeTraceIds()).toBeDefined();
    });
    const batch = spans().find((s) => s.attributes['messaging.batch.message_count'] === 3)!;
    expect(batch.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(batch)).toBeUndefined();
    expect(batch.links.map((l) => l.context.traceId).sort()).toEqual(
      published.map((p) => p.root.spanContext().traceId).sort(),
    );
  });

  it('a record without trace context starts a trace; a failing handler fails its span and throws', async () => {
    await expect(
      inConsumeSpan(
        { topic: 't', partition: 0, offset: '1', group: 'g', headers: {} },
        async () => {
          throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
    const [proc] = spans();
    expect(proc.parentSpanContext).toBeUndefined();
    expect(proc.status.code).toBe(SpanStatusCode.ERROR);
    expect(proc.events.map((e) => e.name)).toContain('exception');
  });

  it('does nothing when tracing is off', async () => {
    setTracingEnabled(false);
    const headers: RecordHeaders = {};
    startPublishSpan(headers);
    expect(headers).toEqual({});
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const seen = await inConsumeSpan(
      { topic: 't', partition: 0, offset: '1', group: 'g', headers: { traceparent } },
      async () => activeTraceIds(),
    );
    expect(seen).toBeUndefined();
    endPublishSpan(headers, { topic: 't' });
    expect(spans()).toHaveLength(0);
  });
});

describe('tracingConfigured', () => {
  it('is on with an OTLP endpoint only, unless the SDK or the trace exporter is turned off', () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(
      tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe(true);
    expect(
      tracingConfigured({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBe(false);
    expect(
      tracingConfigured({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_TRACES_EXPORTER: 'none',
      }),
    ).toBe(false);
  });
});
