import { z } from 'zod';
import type { DeskActionSchema, MessageInitShape } from '@support/contracts';
import type { ConversationState } from '@support/conversation';
import { isResolved } from '@support/conversation';

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
      'must be one of accept, decline, reply, hand_back, resolve, mark_false_escalation, propose_article',
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
    case 'propose_article':
      return {
        case: 'proposeArticle' as const,
        value: { title: input.title, body: input.body, tags: input.tags },
      };
  }
}

/** Whether the agent held (or holds) this handoff at some point. */
function everHeld(state: ConversationState, handoffId: string, agentId: string): boolean {
  return (
    state.handoff?.agent?.agentId === agentId ||
    (state.humanStretches ?? []).some((s) => s.handoffId === handoffId && s.agentId === agentId)
  );
}

/**
 * Why the agent cannot do this now, as the desk sees the conversation (a
 * sentence for a 409), or undefined when they can. Ingest checks again
 * against the log; this is for an immediate answer at the desk.
 */
export function whyNot(
  state: ConversationState,
  agentId: string,
  input: ActionInput,
): string | undefined {
  const h = state.handoff;
  if (!h) return 'the conversation has no handoff';
  if (h.handoffId !== input.handoffId) return 'the handoff is no longer current';
  if (input.type === 'mark_false_escalation' || input.type === 'propose_article')
    return everHeld(state, h.handoffId, agentId) ? undefined : 'you never held this conversation';
  if (isResolved(state)) return 'the conversation is resolved';
  if (h.handedBackAt) return 'the conversation was handed back to the AI';
  // With this agent now: a conversation the customer reopened after the resolution is not, though
  // the old handoff still names them (ingest checks the same).
  if (state.status !== 'with_human' || h.agent?.agentId !== agentId)
    return 'the conversation is not assigned to you';
  if (input.type === 'accept' && h.agent.acceptedAt) return 'you already accepted it';
  if (input.type === 'decline' && h.agent.acceptedAt)
    return 'you accepted it already: hand it back or resolve it instead';
  return undefined;
}
