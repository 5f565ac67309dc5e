import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { SCHEMA_VERSION } from '@support/contracts';
import { startPublishSpan } from '@support/telemetry';

/** The standard headers every record carries. */
export interface RecordMeta {
  eventId: string;
  eventType: string;
  schemaVersion: string;
  correlationId: string;
  causationId: string;
  /** RFC 3339 */
  time: string;
  /** The service that produced the record. */
  producer: string;
}

export const HeaderNames = {
  eventId: 'event-id',
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  time: 'time',
  producer: 'producer',
  /**
   * On a conversation event that a service's log reaction appended and folded into its own
   * snapshots at once, before the log brings it back: those snapshots' namespace (libs/stream
   * partition-fold.ts takes it early too, in a catch-up or a restore).
   */
  foldedInto: 'folded-into',
  contentType: 'content-type',
  /** W3C trace context (https://www.w3.org/TR/trace-context/), when tracing is on. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/**
 * The headers of a record about to be published. When tracing is on (@support/telemetry) this
 * also starts the record's publish span, a child of the active context, and carries its context in
 * `traceparent`/`tracestate`; BusProducer ends the span once the broker has acknowledged the record.
 */
export function encodeHeaders(meta: RecordMeta): IHeaders {
  const headers: IHeaders = {
    [HeaderNames.eventId]: meta.eventId,
    [HeaderNames.eventType]: meta.eventType,
    [HeaderNames.schemaVersion]: meta.schemaVersion,
    [HeaderNames.correlationId]: meta.correlationId,
    [HeaderNames.causationId]: meta.causationId,
    [HeaderNames.time]: meta.time,
    [HeaderNames.producer]: meta.producer,
    [HeaderNames.contentType]: `application/x-protobuf; messageType=${meta.eventType}`,
  };
  startPublishSpan(headers, {
    eventId: meta.eventId,
    eventType: meta.eventType,
    correlationId: meta.correlationId,
  });
  return headers;
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/** Reads the standard headers; missing ones get safe defaults (a partner may omit them). */
export function decodeHeaders(headers: IHeaders | undefined): RecordMeta {
  const h = headersToStrings(headers);
  const eventId = h[HeaderNames.eventId] || randomUUID();
  return {
    eventId,
    eventType: h[HeaderNames.eventType] ?? '',
    schemaVersion: h[HeaderNames.schemaVersion] ?? SCHEMA_VERSION,
    correlationId: h[HeaderNames.correlationId] || eventId,
    causationId: h[HeaderNames.causationId] || '',
    time: h[HeaderNames.time] ?? '',
    producer: h[HeaderNames.producer] ?? '',
  };
}
