import { lastHandbackAt, type ConversationState, type MessageView } from '@support/conversation';

/** How the sentiment scorer smooths frustration (services/sentiment-scorer/src/domain/trajectory.ts). */
const SMOOTHING = 0.5;

/**
 * The conversation's frustration through `message`, as the rules see it
 * (`frustrationTrend`): the scorer's smoothed frustration, or after a
 * handback the same smoothing over the messages since (the scorer's runs from
 * the conversation's first message), from a calm start. 0 for a score from
 * before the frustration score existed.
 */
export function frustrationTrend(state: ConversationState, message: MessageView): number {
  const own = message.score?.frustration;
  if (own === undefined) return 0;
  const since = lastHandbackAt(state);
  if (!since) return message.score?.trajectory?.frustration ?? SMOOTHING * own;
  let smoothed = 0;
  for (const m of state.messages) {
    if (m.at < since) continue;
    const f = m.score?.frustration;
    if (f !== undefined) smoothed = SMOOTHING * f + (1 - SMOOTHING) * smoothed;
    if (m.messageId === message.messageId) break;
  }
  return Math.round(smoothed * 10_000) / 10_000;
}
