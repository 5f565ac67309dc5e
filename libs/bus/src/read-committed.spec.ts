import { IS_CONTROL as CONTROL, IS_TRANSACTIONAL as TRANSACTIONAL } from '@platformatic/kafka';
import { dropAborted, type FetchedPartitions } from './read-committed';

const P = 7n;
const Q = 9n;

type Batch = NonNullable<FetchedPartitions['responses'][0]['partitions'][0]['records']>[0];

const data = (producerId: bigint, firstOffset: number, count = 1): Batch => ({
  producerId,
  firstOffset: BigInt(firstOffset),
  lastOffsetDelta: count - 1,
  attributes: TRANSACTIONAL,
  records: Array.from({ length: count }, () => ({ key: Buffer.from('k') })),
});
/** A control batch: an abort (type 0) or commit (type 1) marker. */
const marker = (producerId: bigint, offset: number, commit: boolean): Batch => ({
  producerId,
  firstOffset: BigInt(offset),
  lastOffsetDelta: 0,
  attributes: TRANSACTIONAL | CONTROL,
  records: [{ key: Buffer.from([0, 0, 0, commit ? 1 : 0]) }],
});

function response(
  records: Batch[],
  aborted: { producerId: bigint; firstOffset: number }[],
): FetchedPartitions {
  return {
    responses: [
      {
        partitions: [
          {
            abortedTransactions: aborted.map((a) => ({ ...a, firstOffset: BigInt(a.firstOffset) })),
            records,
          },
        ],
      },
    ],
  };
}

/** The first offsets of the data batches that still carry records. */
const kept = (r: FetchedPartitions) =>
  r.responses[0].partitions[0]
    .records!.filter((b) => !(b.attributes & CONTROL) && b.records.length > 0)
    .map((b) => Number(b.firstOffset));

describe('dropAborted', () => {
  it('drops every aborted transaction of a producer that aborted several, and keeps its committed one', () => {
    const r = response(
      [
        data(P, 0, 2),
        marker(P, 2, false),
        data(Q, 3),
        data(P, 4),
        marker(P, 5, false),
        marker(Q, 6, true),
        data(P, 7),
        marker(P, 8, true),
      ],
      [
        { producerId: P, firstOffset: 4 },
        { producerId: P, firstOffset: 0 },
      ],
    );
    dropAborted(r);
    expect(kept(r)).toEqual([3, 7]);
    // The batches stay (the stream moves its position past them), the markers untouched.
    expect(r.responses[0].partitions[0].records).toHaveLength(8);
  });

  it('drops an aborted transaction whose abort marker is not in this response', () => {
    const r = response([data(Q, 0), data(P, 1), data(P, 2)], [{ producerId: P, firstOffset: 1 }]);
    dropAborted(r);
    expect(kept(r)).toEqual([0]);
  });

  it("keeps a producer's records from before its aborted transaction began", () => {
    const r = response(
      [data(P, 0), marker(P, 1, true), data(P, 2), marker(P, 3, false)],
      [{ producerId: P, firstOffset: 2 }],
    );
    dropAborted(r);
    expect(kept(r)).toEqual([0]);
  });

  it('leaves a response without aborted transactions as it is', () => {
    const r = response([data(P, 0), marker(P, 1, true)], []);
    dropAborted(r);
    expect(kept(r)).toEqual([0]);
  });
});
