import { fromBinary, DeadLetterSchema } from '@support/contracts';
import {
  buildDeadLetter,
  deadLetterId,
  MIN_DEAD_LETTER_BYTES,
  utf8Prefix,
  type DeadLetterSource,
} from './dead-letter';
import { soloBatchBytes } from './size';

const source = (over: Partial<DeadLetterSource> = {}): DeadLetterSource => ({
  consumerGroup: 'ingest.inbound',
  topic: 'support.inbound',
  partition: 4,
  offset: '1234',
  key: Buffer.from('web:chat-1'),
  value: Buffer.alloc(1000, 7),
  headers: { 'event-id': 'evt-1', 'correlation-id': 'corr-1' },
  reason: 'undecodable support.v1.InboundMessage: premature EOF',
  failedAt: '2024-05-01T10:00:00.000Z',
  producer: 'ingest',
  ...over,
});
const letterOf = (value: Buffer) => fromBinary(DeadLetterSchema, value);
const MiB = 1024 * 1024;

describe('dead letters', () => {
  it('keep the whole original, its coordinates and sizes when it fits', () => {
    const r = buildDeadLetter(source(), 1048588);
    const l = letterOf(r.value);
    expect(r.truncated).toBe(false);
    expect(Buffer.from(l.originalValue)).toEqual(Buffer.alloc(1000, 7));
    expect(l).toMatchObject({
      originalTopic: 'support.inbound',
      partition: 4,
      offset: '1234',
      truncated: false,
      originalValueSize: 1000,
      originalKeySize: 10,
      reason: 'undecodable support.v1.InboundMessage: premature EOF',
      consumerGroup: 'ingest.inbound',
      originalHeaders: { 'event-id': 'evt-1', 'correlation-id': 'corr-1' },
    });
    expect(r.key).toEqual(Buffer.from('web:chat-1'));
    expect(r.headers).toMatchObject({
      'event-id': deadLetterId('ingest.inbound', 'support.inbound', 4, '1234'),
      'event-type': 'support.v1.DeadLetter',
      'correlation-id': 'corr-1',
      'causation-id': 'evt-1',
      'original-topic': 'support.inbound',
      'original-partition': '4',
      'original-offset': '1234',
      'consumer-group': 'ingest.inbound',
      truncated: 'false',
    });
  });

  it('of a 0.9 MB record fit a 1 MiB topic whole', () => {
    const value = Buffer.alloc(Math.floor(0.9 * MiB), 1);
    const r = buildDeadLetter(source({ value }), 1048588);
    expect(soloBatchBytes(r)).toBeLessThanOrEqual(1048588);
    const l = letterOf(r.value);
    expect(l).toMatchObject({ truncated: false, originalValueSize: value.length });
    expect(value.equals(l.originalValue)).toBe(true);
  });

  it.each([
    ['1.5 MB', 1.5 * MiB],
    ['5 MB', 5 * MiB],
  ])('of a %s record fit a 1 MiB topic, with a prefix of the value and its size', (_, size) => {
    const value = Buffer.alloc(Math.floor(size));
    for (let i = 0; i < value.length; i++) value[i] = i % 251;
    const r = buildDeadLetter(source({ value }), 1048588);
    expect(soloBatchBytes(r)).toBeLessThanOrEqual(1048588);
    const l = letterOf(r.value);
    expect(l.truncated).toBe(true);
    expect(r.headers.truncated).toBe('true');
    expect(l.originalValueSize).toBe(value.length);
    expect(l.originalValue.length).toBeGreaterThan(900_000);
    expect(value.subarray(0, l.originalValue.length).equals(l.originalValue)).toBe(true);
    expect(l).toMatchObject({ originalTopic: 'support.inbound', partition: 4, offset: '1234' });
  });

  it('trim headers and keys too large to keep, saying how large they were', () => {
    const headers = { small: 'ok', huge: 'h'.repeat(600_000), after: 'x'.repeat(600_000) };
    const key = Buffer.alloc(400_000, 1);
    const r = buildDeadLetter(source({ headers, key, value: Buffer.alloc(10) }), 1048588);
    expect(soloBatchBytes(r)).toBeLessThanOrEqual(1048588);
    const l = letterOf(r.value);
    expect(l.truncated).toBe(true);
    expect(l.originalHeaders.small).toBe('ok');
    expect(l.originalHeaders.huge.length).toBeLessThan(600_000);
    expect('h'.repeat(600_000).startsWith(l.originalHeaders.huge)).toBe(true);
    expect(l.originalHeadersSize).toBe(2 * 600_000 + 'smallokhugeafter'.length);
    expect(l.originalKeySize).toBe(400_000);
    expect(l.originalKey.length).toBeLessThan(400_000);
    expect(r.key!.length).toBe(l.originalKey.length);
    expect(Buffer.from(l.originalValue)).toEqual(Buffer.alloc(10));
  });

  it('shrink to any smaller budget, down to coordinates, sizes and reason', () => {
    const value = Buffer.alloc(5 * MiB, 3);
    for (const budget of [512 * 1024, 100_000, MIN_DEAD_LETTER_BYTES + 1, MIN_DEAD_LETTER_BYTES]) {
      const r = buildDeadLetter(source({ value }), budget);
      expect(soloBatchBytes(r)).toBeLessThanOrEqual(budget);
      expect(letterOf(r.value)).toMatchObject({ truncated: true, originalValueSize: 5 * MiB });
    }
    const smallest = letterOf(buildDeadLetter(source({ value }), MIN_DEAD_LETTER_BYTES).value);
    expect(smallest.originalValue.length).toBe(0);
    expect(smallest.reason).toMatch(/^undecodable/);
  });

  it('cap a huge reason, in the letter and in its header', () => {
    const r = buildDeadLetter(
      source({ reason: `handler failed 3 times: ${'é'.repeat(10_000)}` }),
      1048588,
    );
    expect(Buffer.byteLength(letterOf(r.value).reason)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(r.headers.reason)).toBeLessThanOrEqual(512);
    expect(r.headers.reason.startsWith('handler failed 3 times: é')).toBe(true);
  });

  it('get one id per group and record, the same every time', () => {
    const id = deadLetterId('g', 't', 0, '5');
    expect(deadLetterId('g', 't', 0, '5')).toBe(id);
    expect(deadLetterId('h', 't', 0, '5')).not.toBe(id);
    expect(deadLetterId('g', 't', 0, '6')).not.toBe(id);
  });

  it('cut UTF-8 between characters', () => {
    expect(utf8Prefix('aé', 2)).toBe('a');
    expect(utf8Prefix('aé', 3)).toBe('aé');
  });
});
