import { create, ConversationEventSchema, type ConversationEvent, type ConversationEventType, type PayloadOf, type MessageInitShape } from '@support/contracts';

/** Builds a ConversationEvent with one payload. */
export function conversationEvent<K extends ConversationEventType>(
  conversationId: string,
  eventId: string,
  kind: K,
  value: PayloadOf<K> | Omit<PayloadOf<K>, '$typeName'>,
  occurredAt: string = new Date().toISOString(),
): ConversationEvent {
  return create(ConversationEventSchema, {
    eventId,
    conversationId,
    occurredAt,
    payload: { case: kind, value } as MessageInitShape<typeof ConversationEventSchema>['payload'],
  });
}
