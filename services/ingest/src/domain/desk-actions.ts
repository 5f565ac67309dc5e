/**
 * What an agent did at a desk (a DeskAction on desk.actions), checked against
 * the conversation as the log has it: the one event it appends, an outbound
 * message for a reply, or why it does not fit. Pure: no I/O.
 */
import { deterministicId } from '@support/bus';
import {
  create,
  OutboundKind,
  OutboundMessageSchema,
  Resolution,
  type ConversationEvent,
  type DeskAction,
  type FieldIssue,
  type OutboundMessage,
} from '@support/contracts';
import {
  conversationEvent,
  deskActionBreach,
  type ConversationState,
  type DeskActionKind,
} from '@support/conversation';
import { closingFor } from './closing.js';
import { resolutionEvent } from './ids.js';
import { reviewDecision, reviewIssues } from './review-action.js';

export type { DeskActionKind };

export const DESK_ACTION_KINDS: readonly DeskActionKind[] = [
  'accept',
  'decline',
  'reply',
  'handBack',
  'resolve',
  'markFalseEscalation',
  'proposeArticle',
  'review',
];

export const Limits = {
  id: 200,
  agentName: 200,
  note: 2000,
  replyText: 5000,
  articleTitle: 200,
  articleBody: 20000,
  tags: 20,
  tag: 50,
} as const;

/** Why an action does not fit: the field (as named in JSON), the rule and a sentence. */
export interface Rejection extends FieldIssue {
  /**
   * The snapshot may only be behind the log (the conversation, the handoff or
   * the assignment the action names may not have reached it yet): worth
   * checking again shortly before giving up.
   */
  mayCatchUp: boolean;
}

export type DeskDecision =
  /**
   * Append `event` (and `followUps` after it: the CSAT request of a
   * resolution), and send `outbound` to the customer (a reply, or the
   * request to rate the conversation).
   */
  | {
      kind: 'append';
      event: ConversationEvent;
      followUps?: ConversationEvent[];
      outbound?: OutboundMessage;
    }
  /** The action's event is in the conversation already: it was appended before. */
  | { kind: 'duplicate'; eventId: string }
  | { kind: 'reject'; rejection: Rejection };

/** The log event's id for an action: one action, one event, however often it is delivered. */
export const deskEventId = (actionId: string) => deterministicId('desk-action', actionId);
/** The id of the agent's reply (AgentReplied.message_id and the outbound message's id). */
export const deskReplyMessageId = (actionId: string) => deterministicId('desk-reply', actionId);
/** The id of a proposed article draft. */
export const deskDraftId = (actionId: string) => deterministicId('desk-draft', actionId);

/** The reason a dead letter carries: the field, the rule and what is wrong. */
export function describeIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field} (${i.rule}): ${i.message}`).join('; ');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function required(field: string, value: string, max: number): FieldIssue | undefined {
  if (value.trim().length === 0)
    return { field, rule: 'required', message: 'is required and must not be blank' };
  if (value.length > max)
    return { field, rule: 'max_length', message: `must be at most ${max} characters` };
  return undefined;
}

function optional(field: string, value: string, max: number): FieldIssue | undefined {
  return value.length > max
    ? { field, rule: 'max_length', message: `must be at most ${max} characters` }
    : undefined;
}

/** Text that is kept trimmed and must then have 1..max characters. */
function trimmedText(field: string, value: string, max: number): FieldIssue | undefined {
  const length = value.trim().length;
  return length >= 1 && length <= max
    ? undefined
    : {
        field,
        rule: 'length',
        message: `must be 1 to ${max} characters once trimmed (was ${length})`,
      };
}

/**
 * The rules an action must meet whatever the conversation's state: the
 * common fields, exactly one action, and each action's own fields. Every
 * issue found, in field order; [] when the action is well-formed.
 */
export function validateDeskAction(a: DeskAction): FieldIssue[] {
  const issues: (FieldIssue | undefined)[] = [
    required('actionId', a.actionId, Limits.id),
    required('conversationId', a.conversationId, Limits.id),
    required('handoffId', a.handoffId, Limits.id),
    required('agentId', a.agentId, Limits.id),
    optional('agentName', a.agentName, Limits.agentName),
    a.sentAt && (!RFC3339.test(a.sentAt) || Number.isNaN(Date.parse(a.sentAt)))
      ? {
          field: 'sentAt',
          rule: 'timestamp',
          message: 'must be an RFC 3339 time such as 2026-01-31T12:00:00Z',
        }
      : undefined,
  ];
  const { action } = a;
  switch (action.case) {
    case undefined:
      issues.push({
        field: 'action',
        rule: 'required',
        message: `must be one of ${DESK_ACTION_KINDS.join(', ')}`,
      });
      break;
    case 'accept':
      break;
    case 'decline':
      issues.push(optional('decline.reason', action.value.reason, Limits.note));
      break;
    case 'reply':
      issues.push(
        trimmedText('reply.text', action.value.text, Limits.replyText),
        optional('reply.draftReplyId', action.value.draftReplyId, Limits.id),
      );
      break;
    case 'handBack':
      issues.push(optional('handBack.note', action.value.note, Limits.note));
      break;
    case 'resolve':
      issues.push(optional('resolve.note', action.value.note, Limits.note));
      break;
    case 'markFalseEscalation':
      issues.push(optional('markFalseEscalation.note', action.value.note, Limits.note));
      break;
    case 'review':
      issues.push(...reviewIssues(action.value));
      break;
    case 'proposeArticle': {
      const { title, body, tags } = action.value;
      issues.push(
        trimmedText('proposeArticle.title', title, Limits.articleTitle),
        trimmedText('proposeArticle.body', body, Limits.articleBody),
        tags.length > Limits.tags
          ? {
              field: 'proposeArticle.tags',
              rule: 'max_items',
              message: `must have at most ${Limits.tags} tags`,
            }
          : undefined,
        ...tags.map((t, i) => trimmedText(`proposeArticle.tags[${i}]`, t, Limits.tag)),
      );
      break;
    }
  }
  return issues.filter((i): i is FieldIssue => i !== undefined);
}

const reject = (
  field: string,
  rule: string,
  message: string,
  mayCatchUp = false,
): DeskDecision => ({ kind: 'reject', rejection: { field, rule, message, mayCatchUp } });

/**
 * Decides what a desk action appends, given the conversation as folded from
 * the log (`at`: the time the event carries). Rules:
 *
 * - the action is well-formed (validateDeskAction);
 * - the conversation is in the log, and `handoffId` is its current handoff;
 * - mark a false escalation and propose an article: the agent holds or held
 *   that handoff; allowed after the resolution too;
 * - every other action: the conversation is not resolved, not handed back,
 *   and with this agent (status with_human, the handoff assigned to them);
 *   accept and decline only before the agent accepted.
 *
 * An action whose event the conversation already holds (among its latest
 * RECENT_EVENT_IDS: a retried action comes soon after the first) is a duplicate.
 */
export function decideDeskAction(
  action: DeskAction,
  state: ConversationState,
  at: string,
): DeskDecision {
  const issues = validateDeskAction(action);
  if (issues.length) return reject(issues[0].field, issues[0].rule, issues[0].message);
  const kind = action.action.case!;
  const eventId = deskEventId(action.actionId);
  if (state.appliedEventIds.includes(eventId)) return { kind: 'duplicate', eventId };

  const found = deskActionBreach(state, {
    handoffId: action.handoffId,
    agentId: action.agentId,
    kind,
  });
  if (found) return reject(found.field, found.rule, found.message, found.mayCatchUp);
  const h = state.handoff!;
  const agentId = action.agentId;

  const conversationId = state.conversationId;
  const handoffId = h.handoffId;
  const agentName = h.agent?.agentId === agentId ? h.agent.agentName : action.agentName;
  const { action: a } = action;
  switch (a.case) {
    case 'accept':
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'agentAccepted',
          { handoffId, agentId, actionId: action.actionId },
          at,
        ),
      );
    case 'decline':
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'agentDeclined',
          { handoffId, agentId, reason: a.value.reason.trim(), actionId: action.actionId },
          at,
        ),
      );
    case 'reply': {
      const messageId = deskReplyMessageId(action.actionId);
      const text = a.value.text.trim();
      const author = agentName || action.agentName || agentId;
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'agentReplied',
          {
            handoffId,
            agentId,
            agentName: author,
            messageId,
            text,
            draftReplyId: a.value.draftReplyId,
            draftEdited: a.value.draftEdited,
          },
          at,
        ),
        create(OutboundMessageSchema, {
          messageId,
          conversationId,
          channel: state.channel,
          externalConversationId: state.externalConversationId,
          customerId: state.customerId,
          kind: OutboundKind.AGENT_REPLY,
          text,
          citations: [],
          inReplyTo: '',
          sentAt: at,
          author,
        }),
      );
    }
    case 'handBack':
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'handedBack',
          {
            handoffId,
            agentId,
            agentName: agentName || action.agentName,
            note: a.value.note.trim(),
          },
          at,
        ),
      );
    case 'resolve': {
      const closing = closingFor(
        state,
        resolutionEvent(state, {
          eventId,
          resolution: Resolution.HUMAN,
          resolvedBy: agentId,
          note: a.value.note.trim(),
          at,
        }),
      );
      return {
        kind: 'append',
        event: closing.events[0],
        followUps: closing.events.slice(1),
        outbound: closing.outbound,
      };
    }
    case 'markFalseEscalation':
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'falseEscalationMarked',
          { handoffId, agentId, note: a.value.note.trim() },
          at,
        ),
      );
    case 'proposeArticle':
      return append(
        conversationEvent(
          conversationId,
          eventId,
          'articleProposed',
          {
            handoffId,
            agentId,
            draftId: deskDraftId(action.actionId),
            title: a.value.title.trim(),
            body: a.value.body.trim(),
            tags: a.value.tags.map((t) => t.trim()),
          },
          at,
        ),
      );
    case 'review': {
      const who = { eventId, actionId: action.actionId, agentId, agentName: agentName || agentId };
      const { event, outbound } = reviewDecision(state, a.value, who, at);
      return append(event, outbound);
    }
    default:
      return reject('action', 'required', `must be one of ${DESK_ACTION_KINDS.join(', ')}`);
  }
}

function append(event: ConversationEvent, outbound?: OutboundMessage): DeskDecision {
  return outbound ? { kind: 'append', event, outbound } : { kind: 'append', event };
}
