import { z } from 'zod';
import { ReviewOutcome, type DeskActionSchema, type MessageInitShape } from '@support/contracts';
import {
  deskActionBreach,
  type ConversationState,
  type DeskActionKind,
  type DeskBreach,
} from '@support/conversation';

/**
 * What an agent can do at the desk, as the desk's HTTP API takes it. Each
 * becomes one DeskAction on desk.actions; ingest checks it against the log
 * and appends the event.
 */
const text = (max: number) => z.string().trim().min(1, { message: 'must not be empty' }).max(max);
const note = z.string().trim().max(2000).default('');

export const actionInputSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('accept'), handoffId: z.string().min(1).max(200) }),
    z.object({ type: z.literal('decline'), handoffId: z.string().min(1).max(200), reason: note }),
    z.object({
      type: z.literal('reply'),
      handoffId: z.string().min(1).max(200),
      text: text(5000),
      draftReplyId: z.string().max(200).default(''),
      draftEdited: z.boolean().default(false),
    }),
    z.object({ type: z.literal('hand_back'), handoffId: z.string().min(1).max(200), note }),
    z.object({ type: z.literal('resolve'), handoffId: z.string().min(1).max(200), note }),
    z.object({
      type: z.literal('mark_false_escalation'),
      handoffId: z.string().min(1).max(200),
      note,
    }),
    z
      .object({
        type: z.literal('review'),
        handoffId: z.string().min(1).max(200),
        /** approve: the AI draft as is; edit: `text` instead; take_over: the conversation is theirs. */
        outcome: z.enum(['approve', 'edit', 'take_over']),
        text: z.string().trim().max(5000).default(''),
      })
      .refine((r) => r.outcome !== 'edit' || r.text.length > 0, {
        path: ['text'],
        message: 'an edited draft must not be empty',
      }),
    z.object({
      type: z.literal('propose_article'),
      handoffId: z.string().min(1).max(200),
      title: text(200),
      body: text(20000),
      tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
    }),
  ],
  {
    error:
      'must be one of accept, decline, reply, hand_back, resolve, mark_false_escalation, propose_article, review',
  },
);

export type ActionInput = z.output<typeof actionInputSchema>;
export type ActionType = ActionInput['type'];

/** The DeskAction's oneof for an input (the part after the common fields). */
export function actionCase(
  input: ActionInput,
): MessageInitShape<typeof DeskActionSchema>['action'] {
  switch (input.type) {
    case 'accept':
      return { case: 'accept' as const, value: {} };
    case 'decline':
      return { case: 'decline' as const, value: { reason: input.reason } };
    case 'reply':
      return {
        case: 'reply' as const,
        value: {
          text: input.text,
          draftReplyId: input.draftReplyId,
          draftEdited: input.draftEdited,
        },
      };
    case 'hand_back':
      return { case: 'handBack' as const, value: { note: input.note } };
    case 'resolve':
      return { case: 'resolve' as const, value: { note: input.note } };
    case 'mark_false_escalation':
      return { case: 'markFalseEscalation' as const, value: { note: input.note } };
    case 'review':
      return {
        case: 'review' as const,
        value: {
          outcome: REVIEW_OUTCOME[input.outcome],
          text: input.outcome === 'edit' ? input.text : '',
        },
      };
    case 'propose_article':
      return {
        case: 'proposeArticle' as const,
        value: { title: input.title, body: input.body, tags: input.tags },
      };
  }
}

const REVIEW_OUTCOME = {
  approve: ReviewOutcome.APPROVED,
  edit: ReviewOutcome.EDITED,
  take_over: ReviewOutcome.TAKEN_OVER,
} as const;

const KIND: Record<ActionType, DeskActionKind> = {
  review: 'review',
  accept: 'accept',
  decline: 'decline',
  reply: 'reply',
  hand_back: 'handBack',
  resolve: 'resolve',
  mark_false_escalation: 'markFalseEscalation',
  propose_article: 'proposeArticle',
};

/**
 * Why the agent cannot do this now, as the desk sees the conversation (a
 * sentence for a 409, to the agent), and whether the desk's view may only be
 * behind the log (worth looking again shortly); undefined when they can. The
 * rules are the ones ingest applies to the log (deskActionBreach); this
 * answers at once instead of a dead letter later.
 */
export function refusal(
  state: ConversationState,
  agentId: string,
  input: ActionInput,
): { message: string; mayCatchUp: boolean } | undefined {
  const found = deskActionBreach(state, {
    handoffId: input.handoffId,
    agentId,
    kind: KIND[input.type],
  });
  if (!found) return undefined;
  return { message: toAgent(found.rule, state, input), mayCatchUp: found.mayCatchUp };
}

function toAgent(rule: DeskBreach['rule'], state: ConversationState, input: ActionInput): string {
  switch (rule) {
    case 'known_conversation':
      return 'the conversation has no handoff';
    case 'current_handoff':
      return state.handoff ? 'the handoff is no longer current' : 'the conversation has no handoff';
    case 'held_handoff':
      return 'you never held this conversation';
    case 'open':
      return 'the conversation is resolved';
    case 'with_human':
      return 'the conversation was handed back to the AI';
    case 'holder':
      return 'the conversation is not assigned to you';
    case 'review_pending':
      return input.type === 'review'
        ? 'there is no AI draft waiting for your review'
        : 'the AI draft waits for your review: approve it, edit it or take the conversation over first';
    case 'not_accepted':
      return input.type === 'accept'
        ? 'you already accepted it'
        : 'you accepted it already: hand it back or resolve it instead';
  }
}
