import { randomUUID } from 'node:crypto';
import { compatibilityPartitioner, defaultPartitioner } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';

/**
 * The log holds every conversation on the partition Java's partitioner (which kafkajs used to
 * produce it) gives its key: the producer must keep to it, or a conversation's new events would
 * land on another partition than its old ones.
 */
describe("the producer's partitioner", () => {
  const keys = Array.from({ length: 2000 }, (_, i) => (i % 2 ? randomUUID() : `key-${i}`));
  const javaPartition = (key: string, partitions: number) =>
    Partitioners.DefaultPartitioner()({
      topic: 't',
      partitionMetadata: Array.from({ length: partitions }, (_, p) => ({
        partitionId: p,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      })),
      message: { key, value: null },
    });

  it.each([3, 6, 12])('puts every key where kafkajs (Java) put it, on %i partitions', (n) => {
    const moved = keys.filter(
      (k) => compatibilityPartitioner({ topic: 't' }, Buffer.from(k)) % n !== javaPartition(k, n),
    );
    expect(moved).toEqual([]);
  });

  it("is not the client's default partitioner, which moves some keys", () => {
    const moved = keys.filter(
      (k) => defaultPartitioner({ topic: 't' }, Buffer.from(k)) % 6 !== javaPartition(k, 6),
    );
    expect(moved.length).toBeGreaterThan(0);
  });
});
