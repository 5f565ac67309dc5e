import {
  create,
  ConversationEventSchema,
  type ConversationEvent,
  type ConversationEventType,
  type MessageInitShape,
} from '@support/contracts';

type PayloadInit = NonNullable<MessageInitShape<typeof ConversationEventSchema>['payload']>;

/** The init shape of one event type's payload (nested messages may be plain objects). */
export type PayloadInitOf<K extends ConversationEventType> = Extract<
  PayloadInit,
  { case: K }
>['value'];

/** Builds a ConversationEvent with one payload. */
export function conversationEvent<K extends ConversationEventType>(
  conversationId: string,
  eventId: string,
  kind: K,
  value: PayloadInitOf<K>,
  occurredAt: string = new Date().toISOString(),
): ConversationEvent {
  return create(ConversationEventSchema, {
    eventId,
    conversationId,
    occurredAt,
    payload: { case: kind, value } as PayloadInit,
  });
}

/**
 * Why a record of the conversation log cannot be applied at all (consumers
 * dead-letter it), or undefined: every event names its conversation, has an id
 * and carries a payload.
 */
export function invalidLogEvent(event: ConversationEvent): string | undefined {
  if (!event.conversationId) return 'conversation_id is required';
  if (!event.eventId) return 'event_id is required';
  if (!event.payload.case) return 'payload is required';
  return undefined;
}
