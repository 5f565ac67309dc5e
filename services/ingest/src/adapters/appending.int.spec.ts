import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { areDone } from '@support/stream';
import { Appending } from './appending';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
afterAll(() => redis.quit());

describe('appending once per key (Redis)', () => {
  const at = (offset: number, partition = 0) => ({ partition, offset: String(offset) });

  it('lets the first record append a key, drops a repeat from another record until and after it is done, and lets the first handle it again', async () => {
    const appending = new Appending(redis);
    const key = `test:appending:${randomUUID()}`;
    expect(await appending.claim([{ key, at: at(10) }])).toEqual([true]);
    // A repeat read before the first's transaction committed.
    expect(await appending.claim([{ key, at: at(11) }])).toEqual([false]);
    // The first record handled again (a retry of its handler): still its own.
    expect(await appending.claim([{ key, at: at(10) }])).toEqual([true]);
    expect(await areDone(redis, [key])).toEqual([false]);
    // Outside a transaction the mark is set at once.
    await appending.append([key], async () => undefined);
    expect(await areDone(redis, [key])).toEqual([true]);
    expect(await appending.claim([{ key, at: at(10) }, { key, at: at(12) }, { key }])).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('forgets what it held when the partitions are assigned again: every record not committed is handled again', async () => {
    const appending = new Appending(redis);
    const key = `test:appending:${randomUUID()}`;
    expect(await appending.claim([{ key, at: at(3, 1) }])).toEqual([true]);
    appending.forget();
    expect(await appending.claim([{ key, at: at(7, 1) }])).toEqual([true]);
  });

  it('lets a key go when its append throws: the record tried again, or a repeat once it is dead-lettered, may append it', async () => {
    const appending = new Appending(redis);
    const key = `test:appending:${randomUUID()}`;
    expect(await appending.claim([{ key, at: at(20) }])).toEqual([true]);
    await expect(
      appending.append([key], () => Promise.reject(new Error('record too large'))),
    ).rejects.toThrow('record too large');
    expect(await areDone(redis, [key])).toEqual([false]);
    // The record was dead-lettered; the channel retries the same idempotency key.
    expect(await appending.claim([{ key, at: at(21) }])).toEqual([true]);
    expect(await appending.append([key], async () => 'sent')).toBe('sent');
    expect(await areDone(redis, [key])).toEqual([true]);
  });

  it('checks an HTTP call (no record) against the done marks only', async () => {
    const appending = new Appending(redis);
    const key = `test:appending:${randomUUID()}`;
    expect(await appending.claim([{ key, at: at(1) }])).toEqual([true]);
    expect(await appending.claim([{ key }])).toEqual([true]);
  });
});
