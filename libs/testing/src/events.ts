import { randomUUID } from 'node:crypto';
import { deterministicId, Topics, type Bus } from '@support/bus';
import {
  create,
  ConversationEventSchema,
  type ConversationEvent,
  type CustomerMessageReceivedSchema,
  type MessageInitShape,
} from '@support/contracts';

type CustomerMessageFields = Omit<
  MessageInitShape<typeof CustomerMessageReceivedSchema>,
  '$typeName'
>;

/**
 * A customerMessageReceived event as ingest writes it (its id derived from the
 * message id, and from the conversation too: tests reuse short message ids such
 * as "m1" across conversations, which ingest's UUIDs never do), with the fields a test does not name filled in: channel "web",
 * external conversation `ext-<conversation id>`, customer `cust-<conversation id>`,
 * locale "en", the message id as idempotency key.
 */
export function customerMessageReceived(
  conversationId: string,
  fields: CustomerMessageFields & { messageId: string; text: string },
  eventId = deterministicId('received', conversationId, fields.messageId),
): ConversationEvent {
  return create(ConversationEventSchema, {
    eventId,
    conversationId,
    occurredAt: new Date().toISOString(),
    payload: {
      case: 'customerMessageReceived',
      value: {
        channel: 'web',
        externalConversationId: `ext-${conversationId}`,
        customerId: `cust-${conversationId}`,
        locale: 'en',
        pageUrl: '',
        idempotencyKey: fields.messageId,
        accountId: 'acct-test',
        sentAt: '',
        ...fields,
      },
    },
  });
}

/**
 * Appends a conversation event to the log (keyed by its conversation, with its
 * own event id) as the service that owns it would. Resolves with the
 * correlation id it carries: the one given, else a new one.
 */
export async function appendToLog(
  bus: Bus,
  event: ConversationEvent,
  { correlationId = randomUUID() }: { correlationId?: string } = {},
): Promise<string> {
  await bus.publish({
    topic: Topics.events,
    key: event.conversationId,
    value: event,
    eventId: event.eventId,
    correlationId,
  });
  return correlationId;
}
