/**
 * Spans of Kafka records, whatever client moves them: the W3C trace context travels in the
 * record's headers (`traceparent`, `tracestate`), so that the work a record causes in another
 * service continues the trace of the work that published it.
 *
 * - publishing: `startPublishSpan(headers)` starts a PRODUCER span as a child of the active
 *   context and writes its context into the headers; `endPublishSpan(headers, …)` ends it once
 *   the broker has acknowledged (or refused) the record.
 * - consuming: `inConsumeSpan(record, fn)` runs the handler inside a CONSUMER span whose parent
 *   is the context the headers carry (a channel adapter's own `traceparent` included), so that
 *   what the handler publishes is part of the same trace.
 *
 * No attribute carries a record's content: ids, topic, partition, offset and key only.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { failed } from './spans.js';
import { tracer, tracingEnabled } from './state.js';

/** Kafka record headers as the clients hold them: a value, or several under one name. */
export type RecordHeaders = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

const text = (v: string | Buffer): string => (Buffer.isBuffer(v) ? v.toString('utf8') : v);

/** Reads propagation fields from record headers (Buffer or string values; names matched without regard to case). */
export const headersGetter: TextMapGetter<RecordHeaders> = {
  keys: (headers) => Object.keys(headers),
  get(headers, key) {
    let v = headers[key];
    if (v === undefined) {
      const name = Object.keys(headers).find((k) => k.toLowerCase() === key);
      v = name === undefined ? undefined : headers[name];
    }
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.map(text) : text(v);
  },
};

/** Writes propagation fields into record headers, replacing what was there. */
export const headersSetter: TextMapSetter<RecordHeaders> = {
  set(headers, key, value) {
    headers[key] = value;
  },
};

/** Writes the given context's trace (by default the active one) into the headers. */
export function injectTraceContext(headers: RecordHeaders, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, headersSetter);
}

/** The context the headers carry (the root context when they carry none). */
export function extractTraceContext(headers: RecordHeaders | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, headersGetter);
}

/** Publish spans not ended yet, by the headers object they travel in. */
const publishing = new WeakMap<object, Span>();

/** What a published record's span may say about it (no content). */
export interface PublishAttributes {
  eventId?: string;
  eventType?: string;
  correlationId?: string;
}

/**
 * Starts the PRODUCER span of one record about to be published, as a child of the active context,
 * and writes its context into the record's headers. Nothing when tracing is off.
 */
export function startPublishSpan(headers: RecordHeaders, attrs: PublishAttributes = {}): void {
  if (!tracingEnabled()) return;
  const parent = context.active();
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
  };
  if (attrs.eventId) attributes['messaging.message.id'] = attrs.eventId;
  if (attrs.correlationId) attributes['support.correlation_id'] = attrs.correlationId;
  if (attrs.eventType) attributes['support.event_type'] = attrs.eventType;
  const span = tracer().startSpan('send', { kind: SpanKind.PRODUCER, attributes }, parent);
  injectTraceContext(headers, trace.setSpan(parent, span));
  publishing.set(headers, span);
}

/**
 * Ends the span startPublishSpan started for these headers, naming the topic (and the key, an
 * id): once the broker acknowledged the record, or with the error it was refused with.
 */
export function endPublishSpan(
  headers: RecordHeaders | undefined,
  record: { topic: string; key?: string | Buffer | null },
  error?: unknown,
): void {
  if (!headers) return;
  const span = publishing.get(headers);
  if (!span) return;
  publishing.delete(headers);
  span.updateName(`send ${record.topic}`);
  span.setAttribute('messaging.destination.name', record.topic);
  if (record.key !== undefined && record.key !== null)
    span.setAttribute('messaging.kafka.message.key', text(record.key));
  if (error !== undefined) failed(span, error);
  span.end();
}

/** A consumed record, as its span describes it (no content). */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key?: string;
  /** The consumer group: "<service>.<group>". */
  group: string;
  headers: RecordHeaders | undefined;
  eventId?: string;
  eventType?: string;
}

/**
 * Runs a record's handler inside a CONSUMER span whose parent is the trace context the record's
 * headers carry (a new trace when they carry none); the handler's own spans and the records it
 * publishes are its children. Without tracing, just runs the handler.
 */
export async function inConsumeSpan<T>(
  record: ConsumedRecord,
  handle: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return handle();
  const parent = extractTraceContext(record.headers);
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': record.topic,
    'messaging.destination.partition.id': String(record.partition),
    'messaging.kafka.offset': Number(record.offset),
    'messaging.consumer.group.name': record.group,
  };
  if (record.key) attributes['messaging.kafka.message.key'] = record.key;
  if (record.eventId) attributes['messaging.message.id'] = record.eventId;
  if (record.eventType) attributes['support.event_type'] = record.eventType;
  const span = tracer().startSpan(
    `process ${record.topic}`,
    { kind: SpanKind.CONSUMER, attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), handle);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs a batch handler (several records of one partition at once) inside one CONSUMER span,
 * linked to the trace context each record carries, as OpenTelemetry's messaging conventions do
 * for batches: a batch has no single parent. Without tracing, just runs the handler.
 */
export async function inBatchSpan<T>(
  records: ConsumedRecord[],
  handle: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled() || records.length === 0) return handle();
  const [first] = records;
  const links = records
    .map((r) => trace.getSpanContext(extractTraceContext(r.headers)))
    .filter((c): c is NonNullable<typeof c> => !!c)
    .map((c) => ({ context: c }));
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': first.topic,
    'messaging.destination.partition.id': String(first.partition),
    'messaging.kafka.offset': Number(first.offset),
    'messaging.batch.message_count': records.length,
    'messaging.consumer.group.name': first.group,
  };
  const span = tracer().startSpan(
    `process ${first.topic}`,
    { kind: SpanKind.CONSUMER, attributes, links },
    ROOT_CONTEXT,
  );
  try {
    return await context.with(trace.setSpan(ROOT_CONTEXT, span), handle);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}
