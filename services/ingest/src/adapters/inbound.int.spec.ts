import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DeadLetterTopics, Topics } from '@support/bus';
import { create, InboundMessageSchema } from '@support/contracts';
import { cosineSimilarity, sentenceEncoder } from '@support/encoder';
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
      {
        INGEST_API_KEYS: `itest-${randomUUID()}`,
        STREAM_TOKEN_SECRET: randomUUID(),
        INGEST_MESSAGE_VECTORS: 'local',
        // The burst and its repeats through Kafka transactions (closing.int.spec.ts sends a
        // repeated rating without them).
        INGEST_INBOUND_TRANSACTIONS: 'on',
      },
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

  it("carries each message's sentence vector, embedded once by ingest with the encoder the services downstream use", async () => {
    // The rig's ingest loads the process's shared encoder after start-up: once it has, it embeds.
    const encoder = await sentenceEncoder();
    const run = randomUUID().slice(0, 8);
    const texts = ['How do I export my invoices?', 'My card was declined twice today', 'hi'];
    const sent = texts.map((text, i) => message(`vec-${run}-${i}`, `vec-${run}-${i}`, text));
    await Promise.all(
      sent.map((value) =>
        rig.bus.publish({
          topic: Topics.inbound,
          key: `whatsapp:${value.externalConversationId}`,
          value,
        }),
      ),
    );
    const ids = new Set(sent.map((m) => messageIdFor('whatsapp', m.idempotencyKey)));
    const received = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.payload.case === 'customerMessageReceived' &&
        ids.has(r.value.payload.value.messageId),
      { count: 3 },
    );
    const fresh = await Promise.all(texts.map(async (t) => (await encoder.embed([t]))[0]));
    for (const r of received) {
      if (r.value.payload.case !== 'customerMessageReceived') throw new Error('not a message');
      const { text, vector } = r.value.payload.value;
      expect(vector?.model).toBe(encoder.name);
      expect(vector?.values).toHaveLength(encoder.dimensions);
      // The vector the services would have embedded themselves (the quantized model's vectors
      // move a little with the texts that share their batch: 0.99 and more alike, not equal).
      const own = fresh[texts.indexOf(text)];
      expect(cosineSimilarity(vector!.values, own)).toBeGreaterThan(0.98);
    }
  });
});
