import { trace, type Tracer } from '@opentelemetry/api';

/**
 * Whether this process records spans. False unless startTracing found an OTLP endpoint: then
 * every helper of this library returns at once (no context extraction, no span objects).
 */
let enabled = false;

export function tracingEnabled(): boolean {
  return enabled;
}

export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

/** The tracer of this codebase's own spans (Kafka records, model calls). */
export function tracer(): Tracer {
  return trace.getTracer('@support/telemetry');
}
