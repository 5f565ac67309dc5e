/**
 * How many bytes a record takes on the wire, and the error for one that can
 * never fit. Kafka checks `max.message.bytes` (the topic's, else the broker's
 * `message.max.bytes`, 1048588 by default) against each record batch, and a
 * produce request carries one batch per partition; kafkajs sends no compression
 * here, so a batch's size is its header plus its records.
 */
import type { IHeaders } from 'kafkajs';

/** Kafka's default `message.max.bytes` (1 MiB plus the 12 bytes of log overhead). */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

/** A v2 record batch's header, including the log overhead (offset and length). */
export const BATCH_OVERHEAD = 61;

/** The most a varint length or delta can take, and a varlong timestamp delta. */
const VARINT = 5;
const VARLONG = 10;

export interface SizedRecord {
  key?: string | Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export function byteLength(v: string | Buffer | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Header values as kafkajs accepts them: one value or several for the same name. */
export function headerEntries(headers: IHeaders | undefined): [string, string | Buffer][] {
  const out: [string, string | Buffer][] = [];
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([name, one]);
  }
  return out;
}

/** Bytes of the headers' names and values. */
export function headersBytes(headers: IHeaders | undefined): number {
  let bytes = 0;
  for (const [name, v] of headerEntries(headers)) bytes += Buffer.byteLength(name) + byteLength(v);
  return bytes;
}

/**
 * An upper bound of one record's size inside a v2 batch: its length, attributes,
 * timestamp and offset deltas, key, value and headers, each length a varint.
 */
export function recordBytes(r: SizedRecord): number {
  let bytes = VARINT + 1 + VARLONG + VARINT + VARINT + byteLength(r.key) + VARINT;
  bytes += byteLength(r.value) + VARINT;
  for (const [name, v] of headerEntries(r.headers))
    bytes += VARINT + Buffer.byteLength(name) + VARINT + byteLength(v);
  return bytes;
}

/** The size of a batch holding only this record: what a record must fit on its own. */
export function soloBatchBytes(r: SizedRecord): number {
  return BATCH_OVERHEAD + recordBytes(r);
}

/**
 * A record that can never fit its destination (larger than the topic's
 * `max.message.bytes`), refused before sending or by the broker. Only the
 * caller that submitted it gets this error.
 */
export class RecordTooLargeError extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number | undefined,
    readonly limit: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      bytes !== undefined && limit !== undefined
        ? `record of ${bytes} bytes does not fit topic ${topic} (max.message.bytes ${limit})`
        : `the broker refused a record for topic ${topic} as too large`,
      options,
    );
    this.name = 'RecordTooLargeError';
  }
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Whether an error (or its cause, or one of the errors it gathers) is the broker refusing a batch as too large. */
export function isTooLarge(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 8; depth++) {
    if (e instanceof RecordTooLargeError) return true;
    if (typeof e.type === 'string' && TOO_LARGE.has(e.type)) return true;
    if (typeof e.apiId === 'string' && TOO_LARGE.has(e.apiId)) return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => isTooLarge(x))) return true;
    e = (e.cause ?? e.originalError) as Record<string, unknown> | undefined;
  }
  return false;
}
