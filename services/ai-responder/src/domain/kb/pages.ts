import { z } from 'zod';

/**
 * The product pages an article applies to, and how retrieval prefers the
 * articles for the page the customer is on. Pure.
 *
 * A pattern is a path on the product's site ("/billing/invoices", any host)
 * or an absolute http(s) URL ("https://app.example.com/settings/security",
 * that host only); `*` stands for any characters, "/" included, so
 * "/billing/*" is the billing section (and "/billing" itself). Query strings
 * and fragments are ignored on both sides, as is a trailing "/"; hosts
 * compare without case, paths with it.
 */

const MAX_PATTERN = 500;

interface ParsedPattern {
  /** Lower-case host for an absolute URL pattern; undefined for a path pattern (any host). */
  host?: string;
  path: RegExp;
}

/** A page as the customer message carries it: a path or an absolute URL. */
interface ParsedPage {
  host?: string;
  path: string;
}

/** "/a/b/" and "/a/b" are the same page; "/" stays "/". */
const trimSlash = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);

function parseUrlish(value: string): { host?: string; path: string } | undefined {
  const text = value.trim();
  if (text.startsWith('/')) {
    if (/^\/[/\\]/.test(text) || /\s/.test(text)) return undefined;
    return { path: text.split(/[?#]/)[0] ?? '/' };
  }
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    // The path as written (wildcards unescaped): everything after the host up to ? or #.
    const afterHost = text.slice(text.indexOf('//') + 2);
    const slash = afterHost.search(/[/?#]/);
    const path = slash < 0 || afterHost[slash] !== '/' ? '/' : afterHost.slice(slash);
    return { host: url.host.toLowerCase(), path: path.split(/[?#]/)[0] ?? '/' };
  } catch {
    return undefined;
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(pattern: string): ParsedPattern | undefined {
  const parsed = parseUrlish(pattern);
  if (!parsed || parsed.host?.includes('*')) return undefined;
  const path = trimSlash(parsed.path);
  // "/billing/*" covers "/billing" too: the section's own page.
  const section = path.endsWith('/*') ? path.slice(0, -2) : undefined;
  const body = path.split('*').map(escape).join('.*');
  const source = section !== undefined ? `(?:${body}|${escape(section || '/')})` : body;
  return { host: parsed.host, path: new RegExp(`^${source}$`) };
}

/** Whether a page pattern is one an article may carry (see the module's comment). */
export function isPagePattern(pattern: string): boolean {
  return pattern.length <= MAX_PATTERN && compile(pattern) !== undefined;
}

/** An article's page patterns as the API and the importers accept them. */
export const pagesSchema = z
  .array(
    z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_PATTERN, `at most ${MAX_PATTERN} characters`)
      .refine(isPagePattern, {
        message:
          'must be a path starting with "/" (e.g. "/billing/*") or an absolute http(s) URL; "*" matches any characters',
      }),
  )
  .max(50, 'at most 50 entries');

function parsePage(pageUrl: string): ParsedPage | undefined {
  if (!pageUrl.trim()) return undefined;
  const parsed = parseUrlish(pageUrl);
  if (!parsed) return undefined;
  let path = parsed.path;
  try {
    path = decodeURI(path);
  } catch {
    // A malformed escape: compare the path as it is.
  }
  return { host: parsed.host, path: trimSlash(path) };
}

/** Whether the customer's page (a path or an absolute URL) is one the pattern names. */
export function pageMatches(pattern: string, pageUrl: string): boolean {
  const compiled = compile(pattern);
  const page = parsePage(pageUrl);
  if (!compiled || !page) return false;
  // A URL pattern names one host: a page given only as a path may be on it.
  if (compiled.host && page.host && compiled.host !== page.host) return false;
  return compiled.path.test(page.path);
}

/** Whether any of an article's patterns names the customer's page. */
export function forPage(pages: readonly string[], pageUrl: string): boolean {
  return pages.some((p) => pageMatches(p, pageUrl));
}

/** How much more an article for the customer's page counts in the ranking, by default. */
export const DEFAULT_PAGE_BOOST = 1.5;

/**
 * The ranking with the customer's page preferred: an article whose pages name
 * it counts `boost` times its score (`pageBoost` on it), then the list is
 * sorted again. A boost, not a filter: an article for another page, or for
 * none, still ranks first when it scores more than `boost` times better.
 * Ties keep the retrieval's order.
 */
export function preferPage<T extends { score: number; pages?: readonly string[] }>(
  ranked: readonly T[],
  pageUrl: string,
  boost = DEFAULT_PAGE_BOOST,
): (T & { pageBoost: number })[] {
  const withBoost = ranked.map((r, i) => ({
    r: { ...r, pageBoost: pageUrl && forPage(r.pages ?? [], pageUrl) ? boost : 1 },
    i,
  }));
  if (!pageUrl || boost === 1) return withBoost.map(({ r }) => r);
  return withBoost
    .sort((a, b) => b.r.score * b.r.pageBoost - a.r.score * a.r.pageBoost || a.i - b.i)
    .map(({ r }) => r);
}
