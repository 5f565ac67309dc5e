import { z } from 'zod';

/**
 * The desk's view of the knowledge base's learning loop: suggestions kept
 * from knowledge.events, and what a reviewer may send back.
 */

export const SUGGESTION_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];

export interface SuggestionSource {
  conversationId: string;
  handoffId: string;
  agentId: string;
  question: string;
}

/** A source is kept once per conversation and handoff (a redelivered merge adds nothing). */
export function addSource(
  sources: SuggestionSource[],
  source: SuggestionSource,
): SuggestionSource[] {
  return sources.some(
    (s) => s.conversationId === source.conversationId && s.handoffId === source.handoffId,
  )
    ? sources
    : [...sources, source];
}

/**
 * Whether a status change reported on knowledge.events applies: a pending
 * suggestion takes any decision; a decided one keeps it (a late or repeated
 * event changes nothing).
 */
export function canMoveTo(current: string, next: SuggestionStatus): boolean {
  return current === 'pending' || current === next;
}

export const suggestionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, { message: 'must be a suggestion id' });

export const suggestionListQuery = z.strictObject({
  status: z.enum(SUGGESTION_STATUSES).default('pending'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});

/** An approval, with the text as the reviewer edited it (absent: the suggestion's own). */
export const approveBody = z.strictObject({
  title: z.string().trim().min(1, { message: 'must not be empty' }).max(300).optional(),
  body: z.string().trim().min(1, { message: 'must not be empty' }).max(50_000).optional(),
  tags: z.array(z.string().trim().min(1).max(60)).max(20).optional(),
});
export type ApproveInput = z.output<typeof approveBody>;

export const rejectBody = z.strictObject({
  reason: z.string().trim().max(2000, { message: 'at most 2,000 characters' }).default(''),
});
