// The bench's followers of the system's topics: throw-away groups on @platformatic/kafka (the
// services' client, read-committed without aborted records, @support/bus's ReadCommittedConsumer),
// from the topics' ends, committing nothing. Not kafkajs: an open kafkajs connection polls its
// request queue every millisecond (kafkajs#1751), so each follower took CPU from the pipeline it
// measures.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MessagesStreamFallbackModes, MessagesStreamModes } = require('@platformatic/kafka');
const { ReadCommittedConsumer } = require('@support/bus');

/**
 * Hands each record of `topic` written from now on to `onRecord({ value, timestamp })` (the value
 * as bytes, the producer's time in ms). Resolves once the group has joined; `stop()` leaves it.
 */
export async function followTopic(brokers, topic, onRecord) {
  const consumer = new ReadCommittedConsumer({
    clientId: 'bench',
    groupId: `bench-${randomUUID()}`,
    bootstrapBrokers: brokers,
    autocommit: false,
    maxWaitTime: 1_000,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.LATEST,
    fallbackMode: MessagesStreamFallbackModes.LATEST,
    autocommit: false,
  });
  stream.on('data', (m) => onRecord({ value: m.value, timestamp: Number(m.timestamp) }));
  stream.on('error', (err) => console.error(`bench follower of ${topic}: ${err.message}`));
  return {
    stop: async () => {
      await stream.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
    },
  };
}
