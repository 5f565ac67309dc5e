import type { Kafka } from 'kafkajs';
import { waitUntil } from './wait.js';

/**
 * Waits until a consumer group has committed every record of a topic that
 * existed when the wait began, e.g. until a service under test has read the
 * whole log that earlier suites wrote.
 */
export async function waitForGroupToCatchUp(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await waitUntil(
      `${groupId} to catch up on ${topic}`,
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return ends.every((end) => {
          const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
          return BigInt(end.high) <= BigInt(end.low) || BigInt(at ?? '-1') >= BigInt(end.high);
        });
      },
      { timeoutMs },
    );
  } finally {
    await admin.disconnect();
  }
}
