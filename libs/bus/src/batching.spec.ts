import {
  BatchingSender,
  defaultBatchLimits,
  planRequest,
  type BatchLimits,
  type OutgoingRecord,
} from './batching';
import { BATCH_OVERHEAD, recordBytes, RecordTooLargeError } from './size';

const rec = (topic: string, n: number, bytes = 1): OutgoingRecord => ({
  topic,
  key: String(n),
  value: Buffer.alloc(bytes, n),
});

function deferredSend() {
  const calls: { records: OutgoingRecord[]; done: () => void; fail: (e: Error) => void }[] = [];
  const send = (records: OutgoingRecord[]) =>
    new Promise<void>((done, fail) => {
      calls.push({ records, done, fail });
    });
  return { calls, send };
}
const tick = () => new Promise((r) => setImmediate(r));
const keys = (records: OutgoingRecord[]) => records.map((r) => r.key);

/** A topic limit that holds exactly `n` records of `bytes` value bytes (keys of one digit). */
const limitFor = (n: number, bytes: number) => BATCH_OVERHEAD + n * recordBytes(rec('x', 1, bytes));

describe('planning a produce request', () => {
  const limits = (over: Partial<BatchLimits>): BatchLimits => ({ ...defaultBatchLimits, ...over });

  it('takes whole callers in order while they fit', () => {
    const queue = [
      { records: [rec('a', 1), rec('a', 2)], next: 0 },
      { records: [rec('b', 3)], next: 0 },
    ];
    expect(planRequest(queue, limits({}))).toEqual([
      { entry: 0, from: 0, to: 2 },
      { entry: 1, from: 0, to: 1 },
    ]);
  });

  it("keeps each topic's records within the topic's max.message.bytes", () => {
    const big = 400_000;
    const queue = [
      { records: [rec('dlq', 1, big)], next: 0 },
      { records: [rec('dlq', 2, big)], next: 0 },
      { records: [rec('dlq', 3, big)], next: 0 },
    ];
    const plan = planRequest(queue, limits({ limitOf: () => limitFor(2, big) }));
    expect(plan).toEqual([
      { entry: 0, from: 0, to: 1 },
      { entry: 1, from: 0, to: 1 },
    ]);
  });

  it('counts each topic on its own: a full topic does not hold back another', () => {
    const big = 600_000;
    const queue = [
      { records: [rec('a', 1, big)], next: 0 },
      { records: [rec('b', 2, big)], next: 0 },
      { records: [rec('a', 3, big)], next: 0 },
    ];
    const plan = planRequest(queue, limits({ limitOf: () => limitFor(1, big) }));
    expect(plan.map((s) => s.entry)).toEqual([0, 1]);
  });

  it('keeps the whole request within its byte cap', () => {
    const queue = [1, 2, 3].map((n) => ({ records: [rec(`t${n}`, n, 1000)], next: 0 }));
    const cap = 2 * (BATCH_OVERHEAD + recordBytes(rec('t1', 1, 1000)));
    expect(planRequest(queue, limits({ maxRequestBytes: cap })).map((s) => s.entry)).toEqual([
      0, 1,
    ]);
  });

  it('splits a caller whose records could never share one request, and only then', () => {
    const big = 300_000;
    const limit = limitFor(2, big);
    const caller = { records: [1, 2, 3, 4, 5].map((n) => rec('a', n, big)), next: 0 };
    expect(planRequest([caller], limits({ limitOf: () => limit }))).toEqual([
      { entry: 0, from: 0, to: 2 },
    ]);
    caller.next = 2;
    expect(planRequest([caller], limits({ limitOf: () => limit }))).toEqual([
      { entry: 0, from: 2, to: 4 },
    ]);
    // A caller that fits a request of its own waits for one rather than being split.
    const queue = [
      { records: [rec('a', 1, big)], next: 0 },
      { records: [rec('a', 2, big), rec('a', 3, big)], next: 0 },
    ];
    expect(planRequest(queue, limits({ limitOf: () => limit }))).toEqual([
      { entry: 0, from: 0, to: 1 },
    ]);
  });

  it('sends a caller marked solo in requests of its own', () => {
    const queue = [
      { records: [rec('a', 1)], next: 0 },
      { records: [rec('a', 2)], next: 0, solo: true },
      { records: [rec('a', 3)], next: 0 },
    ];
    expect(planRequest(queue, limits({}))).toEqual([{ entry: 0, from: 0, to: 1 }]);
    expect(planRequest(queue.slice(1), limits({}))).toEqual([{ entry: 0, from: 0, to: 1 }]);
  });
});

describe('batching sender', () => {
  it('sends the first publish at once and what arrives meanwhile together in the next request', async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send);
    const first = sender.submit([rec('a', 1)]);
    const second = sender.submit([rec('a', 2), rec('b', 3)]);
    const third = sender.submit([rec('a', 4)]);
    await tick();
    expect(calls.map((c) => keys(c.records))).toEqual([['1']]);
    calls[0].done();
    await first;
    await tick();
    expect(keys(calls[1].records)).toEqual(['2', '3', '4']);
    calls[1].done();
    await expect(Promise.all([second, third])).resolves.toBeDefined();
  });

  it('fails exactly the callers whose request failed, and goes on', async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send);
    const first = sender.submit([rec('a', 1)]);
    const second = sender.submit([rec('a', 2)]);
    await tick();
    calls[0].fail(new Error('broker down'));
    await expect(first).rejects.toThrow('broker down');
    await tick();
    calls[1].done();
    await expect(second).resolves.toBeUndefined();
  });

  it('caps a request at the record limit without splitting one caller', async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send, { maxRecords: 3 });
    void sender.submit([rec('a', 0)]);
    void sender.submit([rec('a', 1), rec('a', 2)]);
    void sender.submit([rec('a', 3), rec('a', 4)]);
    await tick();
    calls[0].done();
    await tick();
    await tick();
    expect(calls[1].records).toHaveLength(2);
    calls[1].done();
    await tick();
    await tick();
    expect(keys(calls[2].records)).toEqual(['3', '4']);
  });

  it('puts two large dead letters for one topic in separate requests, both delivered', async () => {
    const { calls, send } = deferredSend();
    const big = 900_000;
    const sender = new BatchingSender(send, { limitOf: () => 1048588 });
    const groupA = sender.submit([rec('t.dlq', 1, big)]);
    const groupB = sender.submit([rec('t.dlq', 2, big)]);
    await tick();
    calls[0].done();
    await tick();
    await tick();
    expect(calls.map((c) => keys(c.records))).toEqual([['1'], ['2']]);
    calls[1].done();
    await expect(Promise.all([groupA, groupB])).resolves.toBeDefined();
  });

  it("refuses a record that can never fit its topic, failing only its caller's call", async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send, { limitOf: (t) => (t === 'small' ? 1000 : 1048588) });
    const ok = sender.submit([rec('other', 1, 500)]);
    const tooBig = sender.submit([rec('small', 2, 10), rec('small', 3, 2000)]);
    await expect(tooBig).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(tooBig).rejects.toThrow(/does not fit topic small \(max.message.bytes 1000\)/);
    await tick();
    expect(calls.map((c) => keys(c.records))).toEqual([['1']]);
    calls[0].done();
    await expect(ok).resolves.toBeUndefined();
  });

  it('when the broker refuses a shared request as too large, retries its callers one by one and fails only the culprit', async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send);
    const first = sender.submit([rec('a', 0)]);
    const innocent = sender.submit([rec('a', 1)]);
    const culprit = sender.submit([rec('b', 2)]);
    const later = sender.submit([rec('a', 3)]);
    await tick();
    calls[0].done();
    await first;
    await tick();
    expect(keys(calls[1].records)).toEqual(['1', '2', '3']);
    const refusal = Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' });
    calls[1].fail(Object.assign(new Error('retries exhausted'), { cause: refusal }));
    await tick();
    await tick();
    expect(keys(calls[2].records)).toEqual(['1']);
    calls[2].done();
    await tick();
    await tick();
    expect(keys(calls[3].records)).toEqual(['2']);
    calls[3].fail(refusal);
    await expect(culprit).rejects.toBeInstanceOf(RecordTooLargeError);
    await tick();
    await tick();
    expect(keys(calls[4].records)).toEqual(['3']);
    calls[4].done();
    await expect(Promise.all([innocent, later])).resolves.toBeDefined();
  });
});
