import type { OfConversation, Projection } from '@support/conversation';

export {
  conversationProjection,
  type OfConversation,
  type Projection,
} from '@support/conversation';

/** Where a service keeps the snapshots of a projection: `snap:<namespace>:<conversation id>`. */
export function projectionNamespace(
  service: string,
  projection: Projection<OfConversation>,
): string {
  return projection.name ? `${service}.${projection.name}` : service;
}
