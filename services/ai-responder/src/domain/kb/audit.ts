/**
 * How the knowledge base's admin changes are recorded in the audit log
 * (service-kit's AuditTrail): the action and a short detail (an article's
 * title, version and status and the names of the changed fields, never its
 * body), or nothing when nothing changed. Pure.
 */
import type { ArticleInput, ArticlePatch, ArticleStatus } from './article.js';

export interface AuditedChange {
  /** `<resource type>.<verb>`: `article.updated`, `suggestion.approved`... */
  action: string;
  detail: Record<string, unknown>;
}

/** What storing an article did (the knowledge base's ImportResult). */
export interface StoredArticle {
  outcome: 'created' | 'updated' | 'unchanged';
  version: number;
  status: ArticleStatus;
}

/** The longest free text (a rejection's reason) a detail shows; longer is cut, with "…". */
const MAX_TEXT = 200;

const brief = (text: string): string =>
  text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;

const PATCHABLE = ['title', 'body', 'tags', 'locale', 'productAreas', 'pages', 'status'] as const;

/** The fields a patch changes: those it names with a value other than the article's. */
export function changedArticleFields(
  current: Omit<ArticleInput, 'id'>,
  patch: ArticlePatch,
): string[] {
  return PATCHABLE.filter(
    (f) => patch[f] !== undefined && JSON.stringify(patch[f]) !== JSON.stringify(current[f] ?? []),
  );
}

/** An article of an import, when the import created or changed it. */
export function articleImported(stored: StoredArticle, title: string): AuditedChange | undefined {
  if (stored.outcome === 'unchanged') return undefined;
  const { outcome, version, status } = stored;
  return { action: 'article.imported', detail: { outcome, title, version, status } };
}

/** An article created with POST /v1/kb/articles (updated, should another request have won the race). */
export function articleCreated(stored: StoredArticle, title: string): AuditedChange | undefined {
  if (stored.outcome === 'unchanged') return undefined;
  const { version, status } = stored;
  return { action: `article.${stored.outcome}`, detail: { title, version, status } };
}

/**
 * A patch (or a retirement) applied to `before`: `article.retired` when it
 * took a live or draft article out of answers, else `article.updated`;
 * nothing when it made no new version.
 */
export function articlePatched(
  before: Omit<ArticleInput, 'id'>,
  patch: ArticlePatch,
  stored: StoredArticle,
): AuditedChange | undefined {
  if (stored.outcome === 'unchanged') return undefined;
  const retired = stored.status === 'retired' && before.status !== 'retired';
  return {
    action: retired ? 'article.retired' : 'article.updated',
    detail: {
      changed: changedArticleFields(before, patch),
      title: patch.title ?? before.title,
      version: stored.version,
      status: stored.status,
    },
  };
}

/** A suggestion approved over HTTP: the article it became, and which fields the reviewer edited. */
export function suggestionApproved(
  article: { id: string; version: number },
  edits: { title?: string; body?: string; tags?: string[] },
): AuditedChange {
  return {
    action: 'suggestion.approved',
    detail: {
      articleId: article.id,
      articleVersion: article.version,
      edited: Object.keys(edits).filter((k) => edits[k as keyof typeof edits] !== undefined),
    },
  };
}

/** A suggestion rejected over HTTP, with its reason (cut short). */
export function suggestionRejected(reason: string): AuditedChange {
  return { action: 'suggestion.rejected', detail: reason ? { reason: brief(reason) } : {} };
}
