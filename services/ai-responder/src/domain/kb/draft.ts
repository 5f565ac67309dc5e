import { createHash } from 'node:crypto';
import { z } from 'zod';
import { slugify, validateArticle, type ArticleInput, type FieldIssue } from './article.js';

/** What an agent proposed from a conversation (ArticleProposed on the log). */
export interface ArticleProposal {
  draftId: string;
  conversationId: string;
  handoffId: string;
  agentId: string;
  title: string;
  body: string;
  tags: string[];
  /** The conversation's language, when known. */
  locale: string;
  /** When the agent proposed it (the event's time). */
  proposedAt: string;
}

export const PROPOSAL_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/**
 * The id of the article a proposal becomes: the title's slug and a short hash
 * of the draft id, so that the same proposal always gets the same id and two
 * proposals with one title get two ("refund-to-a-closed-card-3f2a9c1b07").
 */
export function draftArticleId(draftId: string, title: string): string {
  const hash = createHash('sha256').update(draftId).digest('hex').slice(0, 10);
  const slug = slugify(title).slice(0, 100).replace(/-+$/, '');
  return slug ? `${slug}-${hash}` : `draft-${hash}`;
}

/**
 * The draft article for a proposal: status draft (out of answers until
 * approved), in the conversation's language (else `defaultLocale`), its tags
 * trimmed and without duplicates. A proposal without a title or body, or with
 * fields no article may have, gives the issues instead.
 */
export function draftArticle(
  proposal: ArticleProposal,
  defaultLocale: string,
): { article: ArticleInput } | { issues: FieldIssue[] } {
  const locale = LOCALE.test(proposal.locale) ? proposal.locale : defaultLocale;
  const tags = [...new Set(proposal.tags.map((t) => t.trim()).filter(Boolean))];
  return validateArticle(
    {
      id: draftArticleId(proposal.draftId, proposal.title),
      title: proposal.title,
      body: proposal.body,
      tags,
      locale,
      productAreas: [],
      status: 'draft',
    },
    '',
  );
}

/** A draft id in a path: what the log carries (a UUID from ingest), or any id of letters, digits and . _ : - */
export const draftIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'must be a draft id');

export const draftListQuery = z.strictObject({
  status: z.enum(PROPOSAL_STATUSES).default('pending'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const approveBody = z.strictObject({
  /** The draft article's version the reviewer read (409 when it changed since). */
  expectedVersion: z.number().int().positive().optional(),
});

export const rejectBody = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(2000, 'at most 2,000 characters'),
});
