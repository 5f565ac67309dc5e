import { createHash } from 'node:crypto';
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
