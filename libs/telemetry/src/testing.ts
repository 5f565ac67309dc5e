import { context, propagation, trace, type TracerProvider } from '@opentelemetry/api';
import { setTracingEnabled } from './state.js';

/**
 * For tests: traces into the given provider (say one with an in-memory exporter) as startTracing
 * would, without OTLP or instrumentation. Returns what turns it off again.
 */
export function installTestTracing(provider: TracerProvider): () => void {
  // Loaded here: a service that never calls this does not load them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { AsyncLocalStorageContextManager } =
    require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true);
  return () => {
    setTracingEnabled(false);
    trace.disable();
    propagation.disable();
    context.disable();
    contextManager.disable();
  };
}
