import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { tracer, tracingEnabled } from './state.js';

export type { Attributes, Span };

/**
 * Starts a CLIENT span (a call to another system: a model provider, say) as a child of the
 * active context; undefined when tracing is off. The caller ends it (see `failed` for errors).
 */
export function startClientSpan(name: string, attributes: Attributes = {}): Span | undefined {
  if (!tracingEnabled()) return undefined;
  return tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, context.active());
}

/** The active span's trace and span ids, for log lines; undefined when tracing is off or none is active. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!tracingEnabled()) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Marks a span failed, with the error as an exception event (its name and message). */
export function failed(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}
