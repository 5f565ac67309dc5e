import { randomUUID } from 'node:crypto';
import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';

/** Log events as the other services would write them, for one conversation. */
export function conversationScript(conversationId: string) {
  const messageId = randomUUID();
  const handoffId = randomUUID();
  return {
    conversationId,
    messageId,
    handoffId,
    received: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'customerMessageReceived', {
        messageId,
        channel: 'web',
        externalConversationId: `ext-${conversationId}`,
        customerId: `cust-${conversationId}`,
        // Neutral, so that the other services sharing the log have nothing to escalate.
        text: 'Hello, a question about my invoice',
        locale: 'es',
        pageUrl: '',
        idempotencyKey: messageId,
        accountId: 'acct-1',
        sentAt: '',
      }),
    handoff: (requiredSkills: string[], priority = Priority.NORMAL): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId,
        triggers: [
          { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
        ],
        priority,
        requiredSkills,
        language: 'es',
        policyVersion: 'itest',
      }),
    resolved: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'conversationResolved', {
        resolution: Resolution.HUMAN,
        resolvedBy: 'agent',
        note: '',
      }),
  };
}
