import type { ConversationEvent } from './gen/support/v1/events_pb.js';

/** The name of a conversation event's payload, e.g. "customerMessageReceived". */
export type ConversationEventType = NonNullable<ConversationEvent['payload']['case']>;

/** The payload type for one event type. */
export type PayloadOf<K extends ConversationEventType> = Extract<
  ConversationEvent['payload'],
  { case: K }
>['value'];

/** The event type name used in the `event-type` header, e.g. "support.v1.CustomerMessageReceived". */
export function eventTypeName(event: ConversationEvent): string {
  const value = event.payload.value;
  return value ? value.$typeName : 'support.v1.ConversationEvent';
}
