import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DeadLetterTopics, Topics } from '@support/bus';
import { create, InboundMessageSchema } from '@support/contracts';
import { sleep, type ServiceRig } from '@support/testing';
import { startIngestRig } from '../../test/rig';
import { conversationIdFor, messageIdFor } from '../domain/ids';

jest.setTimeout(90_000);

const inboundDlq = DeadLetterTopics.find((t) => t.name === Topics.inbound.deadLetter)!;

/**
 * Channel adapters' messages on support.inbound arrive in bursts: ingest appends those that wait
 * together at once (their Redis checks in one round trip, their events in one produce request),
 * with the same outcomes as one at a time.
 */
describe('ingest: a burst of channel messages on support.inbound (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    ({ rig } = await startIngestRig(
      'ingest-inbound-itest',
      { INGEST_API_KEYS: `itest-${randomUUID()}`, STREAM_TOKEN_SECRET: randomUUID() },
      [Topics.events, inboundDlq],
    ));
  });

  afterAll(async () => {
    await rig?.close();
  });

  const message = (externalConversationId: string, idempotencyKey: string, text: string) =>
    create(InboundMessageSchema, {
      channel: 'whatsapp',
      externalConversationId,
      customerId: `c-${externalConversationId}`,
      text,
      idempotencyKey,
      locale: 'en',
    });

  it('appends each message once, drops repeats, and dead-letters a key reused for another message', async () => {
    const run = randomUUID().slice(0, 8);
    // Four conversations (so several partitions), five messages each, all sent at once.
    const burst = Array.from({ length: 20 }, (_, i) =>
      message(`chat-${run}-${i % 4}`, `${run}-${i}`, `Question ${i}`),
    );
    const repeat = burst[3]; // a channel adapter's retry: the same message again
    const reused = message(`chat-${run}-1`, `${run}-5`, 'Another text under a used key');
    await Promise.all(
      [...burst, repeat, reused].map((value) =>
        rig.bus.publish({
          topic: Topics.inbound,
          key: `whatsapp:${value.externalConversationId}`,
          value,
        }),
      ),
    );

    const ids = new Set(burst.map((m) => messageIdFor('whatsapp', m.idempotencyKey)));
    const received = () =>
      rig.watcher
        .records(Topics.events)
        .filter(
          (r) =>
            r.value.payload.case === 'customerMessageReceived' &&
            ids.has(r.value.payload.value.messageId),
        );
    await rig.watcher.waitFor(Topics.events, (r) => received().includes(r), { count: 20 });
    const [letter] = await rig.watcher.waitFor(
      inboundDlq,
      (r) => r.value.reason.includes(`${run}-5`) && r.value.reason.includes('reused'),
    );
    await sleep(1_500); // what a repeat would have time to show

    // Each message once, in its conversation, with the text it was sent with.
    expect(received()).toHaveLength(20);
    for (const m of burst) {
      const mine = received().filter(
        (r) =>
          r.value.payload.case === 'customerMessageReceived' &&
          r.value.payload.value.messageId === messageIdFor('whatsapp', m.idempotencyKey),
      );
      expect(mine).toHaveLength(1);
      expect(mine[0].value.conversationId).toBe(
        conversationIdFor('whatsapp', m.externalConversationId),
      );
      expect(
        mine[0].value.payload.case === 'customerMessageReceived' &&
          mine[0].value.payload.value.text,
      ).toBe(m.text);
    }
    expect(letter.value.reason).toMatch(/idempotencyKey \(reused\)/);
    expect(
      rig.watcher.records(inboundDlq).filter((r) => r.value.reason.includes(`${run}-5`)),
    ).toHaveLength(1);
  });
});
