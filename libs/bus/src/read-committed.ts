/**
 * Read-committed fetches without aborted records.
 *
 * A read-committed fetch returns records up to the last stable offset, aborted ones included, with
 * the list of aborted transactions (producer id and first offset); the client must drop them.
 * @platformatic/kafka 2.12.1 drops only the last aborted transaction of each producer in a
 * response: when one producer aborted several (a transactional id aborts again after each failed
 * commit or restart, with the same producer id), the earlier ones reached the handlers as if
 * committed (a probe: three aborted transactions then one committed, the consumer read two
 * aborted records and the committed one). It also kept an aborted transaction whose abort marker
 * was not in the same response.
 *
 * `dropAborted` does what the Kafka protocol prescribes (and Java's fetcher does): walking the
 * batches in offset order, a producer's transaction is aborted from its first offset in the
 * list until its abort marker; data batches of an aborted producer lose their records. The
 * batches themselves stay, so the stream still moves its fetch position past them.
 */
import {
  Consumer,
  IS_CONTROL,
  type CallbackWithPromise,
  type FetchOptions,
  type fetchV17,
} from '@platformatic/kafka';

type FetchResponse = fetchV17.FetchResponse;

/** The control record type of an abort marker (its key: version int16, type int16). */
const ABORT_MARKER = 0;

/** The parts of a fetch response this reads and changes. */
export interface FetchedPartitions {
  responses: {
    partitions: {
      abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
      records:
        | {
            firstOffset: bigint;
            lastOffsetDelta: number;
            producerId: bigint;
            attributes: number;
            records: { key?: Buffer | null }[];
          }[]
        | null;
    }[];
  }[];
}

/** Empties the data batches of aborted transactions in a read-committed fetch response, in place. */
export function dropAborted(response: FetchedPartitions): void {
  for (const topic of response.responses)
    for (const partition of topic.partitions) {
      if (!partition.records || !partition.abortedTransactions?.length) continue;
      const aborted = [...partition.abortedTransactions].sort((a, b) =>
        a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
      );
      const abortedProducers = new Set<bigint>();
      let next = 0;
      for (const batch of partition.records) {
        const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        while (next < aborted.length && aborted[next].firstOffset <= lastOffset)
          abortedProducers.add(aborted[next++].producerId);
        if (batch.attributes & IS_CONTROL) {
          const type = batch.records[0]?.key?.readInt16BE(2);
          if (type === ABORT_MARKER) abortedProducers.delete(batch.producerId);
          continue;
        }
        if (abortedProducers.has(batch.producerId)) batch.records = [];
      }
    }
}

type Options = FetchOptions<Buffer, Buffer, Buffer, Buffer>;

/** The client's consumer, whose fetches (the messages stream's) drop every aborted record. */
export class ReadCommittedConsumer extends Consumer<Buffer, Buffer, Buffer, Buffer> {
  override fetch(options: Options, callback: CallbackWithPromise<FetchResponse>): void;
  override fetch(options: Options): Promise<FetchResponse>;
  override fetch(
    options: Options,
    callback?: CallbackWithPromise<FetchResponse>,
  ): void | Promise<FetchResponse> {
    const clean = (response: FetchResponse) =>
      dropAborted(response as unknown as FetchedPartitions);
    if (!callback)
      return super.fetch(options).then((response) => {
        clean(response);
        return response;
      });
    super.fetch(options, (error, response) => {
      if (!error && response) clean(response);
      callback(error, response as FetchResponse);
    });
  }
}
