import { z } from 'zod';
import { issuesOf, type FieldIssue } from '@support/contracts';
import { pagesSchema } from './pages.js';

export { issuesOf, type FieldIssue };

export const ARTICLE_STATUSES = ['draft', 'published', 'retired'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];
/** Where an article version came from; `agent`: proposed by an agent from a conversation (ArticleProposed). */
/** Where an article's current version came from; "suggestion": approved from the learning loop. */
export type ArticleSource = 'json' | 'markdown' | 'html' | 'api' | 'seed' | 'agent' | 'suggestion';

const SLUG = /^[a-z0-9][a-z0-9-]{0,119}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const label = z.string().trim().min(1, 'must not be empty').max(60, 'at most 60 characters');
const labels = z.array(label).max(30, 'at most 30 entries');

/** The fields of an article, without defaults (a patch must not reset what it does not name). */
const articleFields = {
  title: z.string().trim().min(1, 'must not be empty').max(300, 'at most 300 characters'),
  body: z.string().trim().min(1, 'must not be empty').max(100_000, 'at most 100,000 characters'),
  tags: labels,
  locale: z.string().regex(LOCALE, 'must be a language tag such as "en" or "pt-BR"'),
  productAreas: labels,
  /** The product pages it applies to: paths ("/billing/*") or absolute URLs; retrieval prefers it there. */
  pages: pagesSchema,
  status: z.enum(ARTICLE_STATUSES),
};

/** An article as the admin API and the importers accept it. */
export const articleInputSchema = z.strictObject({
  id: z.string().regex(SLUG, 'must be a slug: a-z, 0-9 and "-", at most 120 characters'),
  ...articleFields,
  tags: articleFields.tags.default([]),
  locale: articleFields.locale.default('en'),
  productAreas: articleFields.productAreas.default([]),
  pages: articleFields.pages.default([]),
  status: articleFields.status.default('published'),
});

export type ArticleInput = z.infer<typeof articleInputSchema>;

/** A partial update: any field but the id; `expectedVersion` guards against lost updates. */
export const articlePatchSchema = z
  .strictObject({
    ...articleFields,
    expectedVersion: z.number().int().positive(),
  })
  .partial()
  .refine((p) => Object.keys(p).some((k) => k !== 'expectedVersion'), {
    message:
      'nothing to change: give at least one of title, body, tags, locale, productAreas, pages, status',
  });

export type ArticlePatch = z.infer<typeof articlePatchSchema>;

/** Validates one article; `field` names it in the issues, e.g. "articles[2]". */
export function validateArticle(
  raw: unknown,
  field: string,
): { article: ArticleInput } | { issues: FieldIssue[] } {
  const parsed = articleInputSchema.safeParse(raw);
  return parsed.success ? { article: parsed.data } : { issues: issuesOf(parsed.error, field) };
}

/** A URL-safe id from a title: "Resetting your password!" -> "resetting-your-password". */
export function slugify(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120)
    .replace(/-+$/, '');
}

/** Whether a stored article and an input say the same thing (nothing to version). */
export function sameContent(a: Omit<ArticleInput, 'id'>, b: Omit<ArticleInput, 'id'>): boolean {
  const list = (x: string[]) => JSON.stringify(x);
  return (
    a.title === b.title &&
    a.body === b.body &&
    list(a.tags) === list(b.tags) &&
    a.locale === b.locale &&
    list(a.productAreas) === list(b.productAreas) &&
    list(a.pages ?? []) === list(b.pages ?? []) &&
    a.status === b.status
  );
}
