import { afterTransaction, currentCapture, Outbox } from './outbox';
import type { OutgoingRecord } from './batching';

const record = (text: string): OutgoingRecord => ({
  topic: 'out',
  key: 'k',
  value: Buffer.from(text),
});
const publish = (text: string) => currentCapture()!.records.push(record(text));
const texts = (records: OutgoingRecord[]) => records.map((r) => r.value!.toString());

describe('outbox', () => {
  it('holds what a handler published under its record, and hands it over in offset order up to the offsets committed', async () => {
    const outbox = new Outbox();
    // Keyed lanes finish records of a partition out of order.
    await outbox.capture(0, 5n, async () => publish('p0@5'));
    await outbox.capture(0, 3n, async () => {
      publish('p0@3 a');
      await new Promise((r) => setTimeout(r, 1));
      publish('p0@3 b');
    });
    await outbox.capture(1, 0n, async () => publish('p1@0'));
    await outbox.capture(0, 4n, async () => undefined);
    expect(outbox.size).toBe(4);

    const taken = outbox.take(
      new Map([
        [0, 5n],
        [1, 1n],
      ]),
    );
    expect(texts(taken.records)).toEqual(['p0@3 a', 'p0@3 b', 'p1@0']);
    expect(texts(outbox.take(new Map([[0, 6n]])).records)).toEqual(['p0@5']);
    expect(outbox.size).toBe(0);
  });

  it('keeps nothing of an attempt that threw', async () => {
    const outbox = new Outbox();
    await expect(
      outbox.capture(0, 1n, async () => {
        publish('lost');
        throw new Error('failed');
      }),
    ).rejects.toThrow('failed');
    await outbox.capture(0, 1n, async () => publish('kept'));
    expect(texts(outbox.take(new Map([[0, 2n]])).records)).toEqual(['kept']);
  });

  it('closes the capture when the handler returns: a later publish of its timers is not held', async () => {
    const outbox = new Outbox();
    let late: (() => boolean) | undefined;
    await outbox.capture(0, 1n, async () => {
      late = () => currentCapture() !== undefined;
    });
    expect(late!()).toBe(false);
    expect(currentCapture()).toBeUndefined();
  });

  it('holds again what a failed transaction carried, except for partitions no longer owned', async () => {
    const outbox = new Outbox();
    await outbox.capture(0, 1n, async () => publish('p0'));
    await outbox.capture(1, 1n, async () => publish('p1'));
    const taken = outbox.take(
      new Map([
        [0, 2n],
        [1, 2n],
      ]),
    );
    expect(outbox.size).toBe(0);
    outbox.giveBack(taken);
    outbox.forget((p) => p === 1);
    expect(
      texts(
        outbox.take(
          new Map([
            [0, 2n],
            [1, 2n],
          ]),
        ).records,
      ),
    ).toEqual(['p1']);
  });

  it('holds the steps a handler asked to run after its transaction, in offset order, and none of an attempt that threw', async () => {
    const outbox = new Outbox();
    const ran: string[] = [];
    const step = (name: string) => afterTransaction(async () => void ran.push(name));
    await outbox.capture(0, 4n, async () => {
      publish('p0@4');
      await step('after p0@4');
    });
    await outbox.capture(0, 2n, () => step('after p0@2'));
    await expect(
      outbox.capture(0, 3n, async () => {
        await step('never');
        throw new Error('failed');
      }),
    ).rejects.toThrow('failed');
    // Nothing runs before the transaction.
    expect(ran).toEqual([]);
    // A step alone counts: its record's offset must go through a transaction too.
    expect(outbox.size).toBe(3);
    const taken = outbox.take(new Map([[0, 5n]]));
    expect(texts(taken.records)).toEqual(['p0@4']);
    for (const s of taken.afterCommit) await s();
    expect(ran).toEqual(['after p0@2', 'after p0@4']);
  });

  it('runs a step at once outside an exactly-once handler', async () => {
    const ran: string[] = [];
    await afterTransaction(async () => void ran.push('now'));
    expect(ran).toEqual(['now']);
  });

  it('gives back the steps of a failed transaction with its records, and drops those of partitions lost', async () => {
    const outbox = new Outbox();
    await outbox.capture(0, 1n, () => afterTransaction(async () => undefined));
    await outbox.capture(1, 1n, () => afterTransaction(async () => undefined));
    const offsets = new Map([
      [0, 2n],
      [1, 2n],
    ]);
    outbox.giveBack(outbox.take(offsets));
    outbox.forget((p) => p === 0);
    expect(outbox.take(offsets).afterCommit).toHaveLength(1);
  });

  it('tells what it drops without a transaction: the outputs of a lost partition, held or still being made', async () => {
    const dropped: [number, number, string][] = [];
    const outbox = new Outbox((partition, records, why) => dropped.push([partition, records, why]));
    await outbox.capture(0, 1n, async () => {
      publish('a');
      publish('b');
    });
    await outbox.capture(1, 1n, async () => publish('kept'));
    let release!: () => void;
    const running = outbox.capture(0, 2n, async () => {
      publish('c');
      await new Promise<void>((r) => (release = r));
    });
    outbox.forget((p) => p === 1);
    release();
    await running;
    expect(dropped).toEqual([
      [0, 2, 'partition lost'],
      [0, 1, 'partition lost while its record was handled'],
    ]);
    expect(texts(outbox.take(new Map([[1, 2n]])).records)).toEqual(['kept']);
  });
});
