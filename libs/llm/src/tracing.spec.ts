import { FakeListChatModel } from '@langchain/core/utils/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { installTestTracing } from '@support/telemetry';
import { configuredChatModel, llmConfigSchema } from './index.js';
import { ModelCallSpans } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let uninstall: (() => void) | undefined;

beforeEach(() => {
  exporter.reset();
  uninstall = installTestTracing(provider);
});
afterEach(() => uninstall?.());
afterAll(() => provider.shutdown());

/** Calls the model inside a span of the caller's (a consumed record's, say), as a service does. */
const insideCaller = <T>(work: () => Promise<T>) =>
  trace.getTracer('test').startActiveSpan('process conversation.events', async (span) => {
    try {
      return await work();
    } finally {
      span.end();
    }
  });

class FailingModel extends FakeListChatModel {
  override async _generate(): Promise<never> {
    throw new Error('provider unavailable');
  }
}

describe('model call spans', () => {
  it("a model call is a CLIENT span of the caller's trace, with the model and no words", async () => {
    const model = new FakeListChatModel({
      responses: ['You can reset it from the sign-in page.'],
      callbacks: [new ModelCallSpans('openai', 'gpt-4o-mini')],
    });
    const reply = await insideCaller(() => model.invoke('How do I reset my password?'));
    expect(reply.content).toBe('You can reset it from the sign-in page.');

    const spans = exporter.getFinishedSpans();
    const caller = spans.find((s) => s.name === 'process conversation.events')!;
    const call = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(call.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
    });
    const recorded = JSON.stringify(spans.map((s) => [s.attributes, s.events]));
    expect(recorded).not.toContain('reset');
  });

  it('a failed call ends its span with the error', async () => {
    const model = new FailingModel({
      responses: [],
      callbacks: [new ModelCallSpans('anthropic', 'claude')],
    });
    await expect(insideCaller(() => model.invoke('hello'))).rejects.toThrow('provider unavailable');
    const call = exporter.getFinishedSpans().find((s) => s.name === 'chat claude')!;
    expect(call.status).toEqual({ code: SpanStatusCode.ERROR, message: 'provider unavailable' });
  });

  it('the configured model carries the span handler only while tracing is on', () => {
    const config = llmConfigSchema.parse({ LLM_PROVIDER: 'openai', LLM_MODEL: 'llama3.1' });
    const handlers = () =>
      (configuredChatModel(config)!.model.callbacks as unknown[] | undefined) ?? [];
    expect(handlers().some((h) => h instanceof ModelCallSpans)).toBe(true);
    uninstall!();
    uninstall = undefined;
    expect(handlers().some((h) => h instanceof ModelCallSpans)).toBe(false);
  });
});
