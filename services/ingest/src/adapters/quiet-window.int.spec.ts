import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { register } from 'prom-client';
import { Bus, Topics } from '@support/bus';
import { OutboundKind, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp } from '@support/service-kit';
import { customerMessageReceived, waitUntil, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { startIngestRig } from '../../test/rig';
import { csatRequestIdFor } from '../domain/closing';

jest.setTimeout(90_000);

const API_KEY = `itest-${randomUUID()}`;

/** A customer's question, and the AI's answer to it, as the other services write them. */
function conversation() {
  const conversationId = randomUUID();
  const messageId = randomUUID();
  return {
    conversationId,
    received: (id = messageId): ConversationEvent =>
      customerMessageReceived(conversationId, { messageId: id, text: 'Where is my invoice?' }),
    released: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'aiReplyReleased', {
        messageId,
        replyId: randomUUID(),
        text: 'Under Billing, Invoices.',
        confidence: 0.9,
      }),
  };
}

describe('ingest: the quiet window, with two replicas sweeping (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;
  let second: INestApplication | undefined;

  beforeAll(async () => {
    const started = await startIngestRig(
      'ingest-quiet-itest',
      {
        INGEST_API_KEYS: API_KEY,
        STREAM_TOKEN_SECRET: `stream-secret-${randomUUID()}`,
        QUIET_WINDOW_SECONDS: '2',
        QUIET_SWEEP_MS: '100',
      },
      [Topics.events, Topics.outbound],
    );
    rig = started.rig;
    const { config, logger } = started;
    // The second replica: the same service, groups and Redis, in this process.
    register.clear();
    second = await createServiceApp(AppModule.create(config, logger), logger);
    await second.listen(0, '127.0.0.1');
    await waitUntil('the second replica to join its groups', () => second!.get(Bus).health().ok);
  });

  afterAll(async () => {
    await second?.close();
    await rig?.close();
  });

  const ofConversation = (conversationId: string, kind: string) =>
    rig.watcher
      .records(Topics.events)
      .filter((r) => r.value.conversationId === conversationId && r.value.payload.case === kind);

  it('resolves a conversation quiet after the AI answer once, as assumed, with one CSAT request', async () => {
    const c = conversation();
    await rig.append(c.received());
    await rig.append(c.released());

    const [resolved] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === c.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    expect(resolved.value.payload.value).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'quiet_window',
        assumed: true,
      }),
    );
    const requestId = csatRequestIdFor(resolved.value.eventId);
    const [outbound] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === c.conversationId,
    );
    expect(outbound.value).toEqual(
      expect.objectContaining({ kind: OutboundKind.CSAT_REQUEST, csatRequestId: requestId }),
    );

    // Once both replicas applied the resolution, neither has the conversation as a candidate;
    // a later conversation's resolution shows that sweeps went on meanwhile.
    const later = conversation();
    await rig.append(later.received());
    await rig.append(later.released());
    await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === later.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    expect(ofConversation(c.conversationId, 'conversationResolved')).toHaveLength(1);
    expect(ofConversation(c.conversationId, 'csatRequested')).toEqual([
      expect.objectContaining({
        value: expect.objectContaining({
          payload: { case: 'csatRequested', value: expect.objectContaining({ requestId }) },
        }),
      }),
    ]);
    expect(
      rig.watcher
        .records(Topics.outbound)
        .filter((r) => r.value.conversationId === c.conversationId),
    ).toHaveLength(1);
  });

  it('does not resolve a conversation whose customer wrote again within the window', async () => {
    const answered = conversation();
    const wroteAgain = conversation();
    await rig.append(wroteAgain.received());
    await rig.append(wroteAgain.released());
    await rig.append(wroteAgain.received(randomUUID()));
    await rig.append(answered.received());
    await rig.append(answered.released());

    // The conversation answered after the other one's last message goes quiet and is resolved:
    // by then the other one's window (which would have ended earlier) has passed too.
    await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === answered.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    // And a sweep after that one has run (a third conversation resolved later).
    const third = conversation();
    await rig.append(third.received());
    await rig.append(third.released());
    await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === third.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    expect(ofConversation(wroteAgain.conversationId, 'conversationResolved')).toEqual([]);
    expect(ofConversation(wroteAgain.conversationId, 'csatRequested')).toEqual([]);
  });
});
