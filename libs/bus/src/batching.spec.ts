import { BatchingSender, type OutgoingRecord } from './batching';

const rec = (topic: string, n: number): OutgoingRecord => ({
  topic,
  key: String(n),
  value: Buffer.from([n]),
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

describe('batching sender', () => {
  it('sends the first publish at once and what arrives meanwhile together in the next request', async () => {
    const { calls, send } = deferredSend();
    const sender = new BatchingSender(send);
    const first = sender.submit([rec('a', 1)]);
    const second = sender.submit([rec('a', 2), rec('b', 3)]);
    const third = sender.submit([rec('a', 4)]);
    await tick();
    expect(calls.map((c) => c.records.map((r) => r.key))).toEqual([['1']]);
    calls[0].done();
    await first;
    await tick();
    expect(calls[1].records.map((r) => r.key)).toEqual(['2', '3', '4']);
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
    const sender = new BatchingSender(send, 3);
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
    expect(calls[2].records.map((r) => r.key)).toEqual(['3', '4']);
  });
});
