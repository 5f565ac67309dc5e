/**
 * Dead letters that always fit their topic: the whole original when it fits,
 * else a prefix of its value with its coordinates and sizes, flagged truncated.
 * Pure, apart from DeadLetterWriter at the end, which sends them.
 */
import type { IHeaders } from 'kafkajs';
import { create, toBinary, DeadLetterSchema, SCHEMA_VERSION } from '@support/contracts';
import { HeaderNames, headersToStrings } from './headers.js';
import { deterministicId } from './ids.js';
import { byteLength, headersBytes, isTooLarge, soloBatchBytes } from './size.js';
import type { BatchingSender } from './batching.js';

/** The record being dead-lettered and why. */
export interface DeadLetterSource {
  consumerGroup: string;
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
  reason: string;
  /** RFC 3339 */
  failedAt: string;
  /** The service writing the dead letter. */
  producer: string;
}

export interface DeadLetterRecord {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
  truncated: boolean;
}

/** The most of a reason kept in the letter, and in its `reason` header. */
const REASON_BYTES = 4096;
const REASON_HEADER_BYTES = 512;
/** Below this budget a dead letter keeps only its coordinates, sizes and reason. */
export const MIN_DEAD_LETTER_BYTES = 8 * 1024;

/**
 * The event id of a record's dead-lettering by one consumer group: the same
 * each time that group dead-letters that record, so a repeat is recognisable.
 */
export function deadLetterId(group: string, topic: string, partition: number, offset: string) {
  return deterministicId('dead-letter', group, topic, String(partition), offset);
}

/** The longest prefix of a string that takes at most `maxBytes` in UTF-8, cut between characters. */
export function utf8Prefix(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const cut = Buffer.from(s).subarray(0, Math.max(0, maxBytes)).toString('utf8');
  // A character cut in half decodes as U+FFFD: drop it.
  return cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut;
}

const prefix = (b: Buffer | null, max: number): Buffer | null =>
  b && b.length > max ? b.subarray(0, Math.max(0, max)) : b;

interface Parts {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  truncated: boolean;
}

function encode(src: DeadLetterSource, parts: Parts): DeadLetterRecord {
  const reason = utf8Prefix(src.reason, REASON_BYTES);
  const letter = create(DeadLetterSchema, {
    originalTopic: src.topic,
    partition: src.partition,
    offset: src.offset,
    originalKey: parts.key ? new Uint8Array(parts.key) : new Uint8Array(),
    originalValue: parts.value ? new Uint8Array(parts.value) : new Uint8Array(),
    originalHeaders: parts.headers,
    reason,
    consumerGroup: src.consumerGroup,
    failedAt: src.failedAt,
    truncated: parts.truncated,
    originalValueSize: byteLength(src.value),
    originalKeySize: byteLength(src.key),
    originalHeadersSize: headersBytes(src.headers),
  });
  const original = headersToStrings(src.headers);
  const eventId = deadLetterId(src.consumerGroup, src.topic, src.partition, src.offset);
  return {
    key: parts.key,
    value: Buffer.from(toBinary(DeadLetterSchema, letter)),
    headers: {
      [HeaderNames.eventId]: eventId,
      [HeaderNames.eventType]: DeadLetterSchema.typeName,
      [HeaderNames.schemaVersion]: SCHEMA_VERSION,
      [HeaderNames.correlationId]: utf8Prefix(original[HeaderNames.correlationId] || eventId, 256),
      [HeaderNames.causationId]: utf8Prefix(original[HeaderNames.eventId] ?? '', 256),
      [HeaderNames.time]: src.failedAt,
      [HeaderNames.producer]: src.producer,
      reason: utf8Prefix(reason, REASON_HEADER_BYTES),
      'original-topic': src.topic,
      'original-partition': String(src.partition),
      'original-offset': src.offset,
      'consumer-group': src.consumerGroup,
      truncated: String(parts.truncated),
    },
    truncated: parts.truncated,
  };
}

/** The original headers cut to about `maxBytes`: each value to a share of it, the rest dropped. */
function trimHeaders(headers: Record<string, string>, maxBytes: number): Record<string, string> {
  const out: Record<string, string> = {};
  const perValue = Math.max(64, Math.floor(maxBytes / 8));
  let used = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (Buffer.byteLength(name) > 256) continue;
    const v = utf8Prefix(value, perValue);
    const bytes = Buffer.byteLength(name) + Buffer.byteLength(v) + 10;
    if (used + bytes > maxBytes) break;
    out[name] = v;
    used += bytes;
  }
  return out;
}

/**
 * The dead letter of a record, at most `budget` bytes as a batch of its own
 * (the dead-letter topic's max.message.bytes, or less after a refusal). When
 * the whole original does not fit: the key is cut to a sixteenth of the
 * budget, the headers to an eighth, and the value to what is left. At
 * MIN_DEAD_LETTER_BYTES and below, only coordinates, sizes and reason remain.
 */
export function buildDeadLetter(src: DeadLetterSource, budget: number): DeadLetterRecord {
  const headers = headersToStrings(src.headers);
  const whole = encode(src, { key: src.key, value: src.value, headers, truncated: false });
  if (soloBatchBytes(whole) <= budget) return whole;
  const parts: Parts = {
    key: prefix(src.key, Math.max(64, Math.floor(budget / 16))),
    value: Buffer.alloc(0),
    headers: budget > MIN_DEAD_LETTER_BYTES ? trimHeaders(headers, Math.floor(budget / 8)) : {},
    truncated: true,
  };
  if (budget <= MIN_DEAD_LETTER_BYTES) return encode(src, { ...parts, key: prefix(src.key, 64) });
  // The value gets what the rest leaves (a few bytes more for its length's varints).
  const fixed = soloBatchBytes(encode(src, parts));
  let room = Math.max(0, budget - fixed - 10);
  for (;;) {
    const letter = encode(src, { ...parts, value: prefix(src.value, room) });
    const over = soloBatchBytes(letter) - budget;
    if (over <= 0 || room === 0) return letter;
    room = Math.max(0, room - over);
  }
}

export interface DeadLetterLogger {
  error(message: string, context?: Record<string, unknown>): void;
}

/**
 * Sends dead letters through the batching sender. If the broker refuses one as
 * too large (its topic's actual limit is below the catalogue's), it is sent
 * again at half the size, down to MIN_DEAD_LETTER_BYTES; then it is given up
 * and logged rather than stopping the consumer. Other errors (broker down) are
 * thrown: the record is retried.
 */
export class DeadLetterWriter {
  constructor(
    private readonly sender: BatchingSender,
    private readonly limitOf: (topic: string) => number,
    private readonly logger: DeadLetterLogger,
  ) {}

  /** Returns the dead letter as written, or undefined if none could be. */
  async write(
    deadLetterTopic: string,
    src: DeadLetterSource,
  ): Promise<DeadLetterRecord | undefined> {
    let budget = this.limitOf(deadLetterTopic);
    for (;;) {
      const record = buildDeadLetter(src, budget);
      try {
        await this.sender.submit([{ topic: deadLetterTopic, ...record }]);
        return record;
      } catch (err) {
        if (!isTooLarge(err)) throw err;
        if (budget <= MIN_DEAD_LETTER_BYTES) {
          this.logger.error('dead letter refused even at its smallest; record skipped', {
            topic: src.topic,
            partition: src.partition,
            offset: src.offset,
            deadLetterTopic,
            error: (err as Error).message,
          });
          return undefined;
        }
        budget = Math.max(MIN_DEAD_LETTER_BYTES, Math.floor(budget / 2));
      }
    }
  }
}
