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
