import { Resolution, type ConversationEvent } from '@support/contracts';

/** The read model's row for one conversation. */
export interface ConversationRow {
  conversationId: string;
  channel: string;
  startedAt: Date;
  aiReplies: number;
  handoffs: number;
  firstHandoffAt: Date | null;
  assignedAt: Date | null;
  /** The conversation's status, as in @support/conversation. */
  status: string;
  resolvedAs: 'ai' | 'human' | null;
  resolvedAt: Date | null;
  reopened: number;
}

/** Why an event cannot be applied (the live consumer dead-letters it, a rebuild skips it), or undefined. */
export function invalidReason(event: ConversationEvent): string | undefined {
  if (!event.conversationId) return 'conversation_id is required';
  if (!event.eventId) return 'event_id is required';
  if (!event.payload.case) return 'payload is required';
  return undefined;
}

/** When the event happened: its occurred_at, else the fallback (the record's time). */
export function eventTime(event: ConversationEvent, fallback: Date): Date {
  const at = Date.parse(event.occurredAt);
  return Number.isNaN(at) ? fallback : new Date(at);
}

function blankRow(conversationId: string, at: Date): ConversationRow {
  return {
    conversationId,
    channel: '',
    startedAt: at,
    aiReplies: 0,
    handoffs: 0,
    firstHandoffAt: null,
    assignedAt: null,
    status: 'new',
    resolvedAs: null,
    resolvedAt: null,
    reopened: 0,
  };
}

const isResolved = (status: string) =>
  status === 'resolved_by_ai' || status === 'resolved_by_human';

/**
 * The row after one event: (row, event) -> row, or undefined when the event
 * changes nothing that the read model counts. The caller applies each event
 * id at most once.
 */
export function applyEvent(
  row: ConversationRow | undefined,
  event: ConversationEvent,
  fallbackAt: Date,
): ConversationRow | undefined {
  const at = eventTime(event, fallbackAt);
  const current = row ?? blankRow(event.conversationId, at);
  const { payload } = event;
  switch (payload.case) {
    case 'customerMessageReceived': {
      const reopening = isResolved(current.status);
      return {
        ...current,
        channel: current.channel || payload.value.channel,
        status: reopening ? 'reopened' : current.status === 'new' ? 'ai_handling' : current.status,
        reopened: current.reopened + (reopening ? 1 : 0),
        resolvedAs: reopening ? null : current.resolvedAs,
        resolvedAt: reopening ? null : current.resolvedAt,
      };
    }
    case 'aiReplyReleased':
      return {
        ...current,
        aiReplies: current.aiReplies + 1,
        status:
          current.status === 'new' || current.status === 'reopened'
            ? 'ai_handling'
            : current.status,
      };
    case 'handoffRequested':
      return {
        ...current,
        handoffs: current.handoffs + 1,
        firstHandoffAt: current.firstHandoffAt ?? at,
        status: 'awaiting_human',
      };
    case 'agentAssigned':
      return {
        ...current,
        assignedAt: current.assignedAt ?? at,
        status: current.status === 'awaiting_human' ? 'with_human' : current.status,
      };
    case 'conversationResolved': {
      const human = payload.value.resolution === Resolution.HUMAN;
      return {
        ...current,
        status: human ? 'resolved_by_human' : 'resolved_by_ai',
        resolvedAs: human ? 'human' : 'ai',
        resolvedAt: at,
      };
    }
    default:
      return undefined;
  }
}
