import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isUnreachable } from './bus.js';

describe('isUnreachable: whether start-up waits for Kafka or gives up', () => {
  it('waits when the brokers refused the connection, also once kafkajs ran out of retries', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    });
    expect(isUnreachable(refused)).toBe(true);
    expect(
      isUnreachable(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 30 })),
    ).toBe(true);
  });

  it('gives up on anything else: a broker that answered with an error, or a bug', () => {
    const answered = new KafkaJSProtocolError('Topic authorization failed');
    expect(isUnreachable(answered)).toBe(false);
    expect(
      isUnreachable(new KafkaJSNumberOfRetriesExceeded(answered, { retryCount: 8, retryTime: 30 })),
    ).toBe(false);
    expect(isUnreachable(new TypeError('x is not a function'))).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });
});
