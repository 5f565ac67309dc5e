import { KafkaJSProtocolError } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { fetchTopicEnds } from './topic-admin';

/** A Kafka error as kafkajs raises it for an error code the broker answered with. */
function brokerError(type: string, retriable: boolean): Error {
  const err = new KafkaJSProtocolError(type);
  Object.assign(err, { type, retriable });
  return err;
}

/** An admin whose fetchTopicOffsets fails with `failures` first, then answers. */
function adminFailing(failures: Error[]) {
  let calls = 0;
  const admin = {
    fetchTopicOffsets: async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return [{ partition: 0, offset: '7', high: '7', low: '0' }];
    },
  } as unknown as Admin;
  return { admin, calls: () => calls };
}

describe("fetchTopicEnds: a topic's offsets while its leadership moves", () => {
  it('asks again while the broker is not yet the leader of a partition, then answers', async () => {
    const notLeader = () => brokerError('NOT_LEADER_FOR_PARTITION', true);
    const { admin, calls } = adminFailing([notLeader(), notLeader()]);
    await expect(fetchTopicEnds(admin, 'conversation.events')).resolves.toEqual([
      { partition: 0, offset: '7', high: '7', low: '0' },
    ]);
    expect(calls()).toBe(3);
  });

  it('throws at once what asking again cannot mend', async () => {
    const { admin, calls } = adminFailing([brokerError('TOPIC_AUTHORIZATION_FAILED', false)]);
    await expect(fetchTopicEnds(admin, 'conversation.events')).rejects.toThrow(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(calls()).toBe(1);
  });

  it('gives up with the last error once its time is out', async () => {
    const failures = Array.from({ length: 50 }, () => brokerError('LEADER_NOT_AVAILABLE', true));
    const { admin, calls } = adminFailing(failures);
    await expect(fetchTopicEnds(admin, 'conversation.events', 500)).rejects.toThrow(
      'LEADER_NOT_AVAILABLE',
    );
    expect(calls()).toBeGreaterThan(1);
    expect(calls()).toBeLessThan(10);
  });
});
