import { KafkaJSProtocolError } from 'kafkajs';
import { EventEmitter } from 'node:events';
import type { Admin, Consumer } from 'kafkajs';
import { failOnFatalCrash, fetchTopicEnds } from './topic-admin';

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

describe('failOnFatalCrash: a read with a kafkajs consumer', () => {
  /** A consumer that only emits its crash events, as kafkajs's does. */
  function crashingConsumer() {
    const emitter = new EventEmitter();
    const consumer = {
      events: { CRASH: 'consumer.crash' },
      on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    } as unknown as Consumer;
    const crash = (error: Error, restart: boolean) =>
      emitter.emit('consumer.crash', { payload: { error, groupId: 'replay-x', restart } });
    return { consumer, crash };
  }

  it('goes on through a crash kafkajs restarts from, and fails on one it does not', () => {
    const { consumer, crash } = crashingConsumer();
    const failures: Error[] = [];
    failOnFatalCrash(consumer, (err) => failures.push(err));
    crash(brokerError('NOT_LEADER_FOR_PARTITION', true), true);
    expect(failures).toEqual([]);
    const fatal = brokerError('TOPIC_AUTHORIZATION_FAILED', false);
    crash(fatal, false);
    expect(failures).toEqual([fatal]);
  });
});
