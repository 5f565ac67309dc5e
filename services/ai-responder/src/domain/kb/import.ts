import * as cheerio from 'cheerio';
import matter from 'gray-matter';
import TurndownService from 'turndown';
import { gfm } from '@joplin/turndown-plugin-gfm';
import {
  slugify,
  validateArticle,
  type ArticleInput,
  type ArticleSource,
  type ArticleStatus,
  type FieldIssue,
} from './article.js';

/** What an import yields: the valid articles, or the issues that stop it (nothing is stored then). */
export interface ParsedImport {
  articles: (ArticleInput & { source: ArticleSource })[];
  /** Where each article came from in the request, e.g. "articles[2]" or "files[0]"; parallel to `articles`. */
  where: string[];
  issues: FieldIssue[];
}

export type ImportFormat = 'json' | 'markdown' | 'html';

/** A file in a JSON import: `{ "files": [{ "name": "reset.md", "content": "..." }] }`. */
interface ImportFile {
  name?: unknown;
  content?: unknown;
  format?: unknown;
}

/** The format a Content-Type names, or undefined when it names none we import. */
export function formatOfContentType(contentType: string | undefined): ImportFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'text/markdown' || type === 'text/x-markdown') return 'markdown';
  if (type === 'text/html') return 'html';
  return undefined;
}

function formatOfFileName(name: string): ImportFormat | undefined {
  if (/\.(md|markdown)$/i.test(name)) return 'markdown';
  if (/\.html?$/i.test(name)) return 'html';
  if (/\.json$/i.test(name)) return 'json';
  return undefined;
}

const list = (value: unknown): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

/**
 * One Markdown file with optional YAML front matter (id, title, tags, locale,
 * productAreas, pages, status). Without a title in the front matter the first "# "
 * heading is the title; without an id the title's slug is the id.
 */
export function parseMarkdown(text: string, field: string, defaults: ImportDefaults): ParsedImport {
  let parsed: matter.GrayMatterFile<string>;
  try {
    // An empty options object stops gray-matter caching by content, which would share parsed data.
    parsed = matter(text, {});
  } catch (err) {
    return {
      articles: [],
      where: [],
      issues: [
        {
          field,
          rule: 'front_matter',
          message: `front matter is not valid YAML: ${(err as Error).message}`,
        },
      ],
    };
  }
  const data = parsed.data as Record<string, unknown>;
  let body = parsed.content.trim();
  let title = typeof data.title === 'string' ? data.title : undefined;
  if (title === undefined) {
    const h1 = /^#\s+(.+)$/m.exec(body);
    if (h1) {
      title = h1[1].trim();
      body = body.replace(h1[0], '').trim();
    }
  }
  const raw = {
    ...data,
    id: data.id ?? (title ? slugify(title) : undefined),
    title,
    body,
    tags: list(data.tags),
    productAreas: list(data.productAreas ?? data.product_areas),
    pages: list(data.pages),
    status: data.status ?? defaults.status,
    locale: data.locale ?? defaults.locale,
  };
  delete (raw as Record<string, unknown>).product_areas;
  return single(validateArticle(raw, field), 'markdown', field);
}

const turndown = new TurndownService({
  headingStyle: 'atx',
  bulletListMarker: '-',
  codeBlockStyle: 'fenced',
});
// Tables (and strikethrough) as GitHub Markdown, so that rows keep their columns.
turndown.use(gfm);

/**
 * A help-center export: every <article> element is an article (the whole page
 * when there is none). Title from its <h1> (or the page <title>), id from
 * data-id (or the title's slug), locale from data-locale (or <html lang>),
 * tags, product areas and pages from data-tags, data-product-areas and
 * data-pages (comma-separated); the body,
 * from .article-body when present, becomes Markdown. Scripts, styles,
 * navigation, headers and footers are dropped.
 */
export function parseHtml(html: string, field: string, defaults: ImportDefaults): ParsedImport {
  const $ = cheerio.load(html);
  $('script, style, noscript, template, iframe').remove();
  const pageLocale = $('html').attr('lang');
  let nodes = $('article').toArray();
  if (nodes.length === 0) nodes = [($('main').get(0) ?? $('body').get(0))!].filter(Boolean);
  const result: ParsedImport = { articles: [], where: [], issues: [] };
  nodes.forEach((node, i) => {
    const el = $(node);
    const where = nodes.length > 1 ? `${field}.article[${i}]` : field;
    el.find('nav, header, footer, aside').remove();
    const h1 = el.find('h1').first();
    const title = (h1.text() || $('title').first().text()).replace(/\s+/g, ' ').trim();
    h1.remove();
    const bodyEl = el.find('.article-body').first();
    const bodyHtml = (bodyEl.length ? bodyEl : el).html() ?? '';
    const raw = {
      id: el.attr('data-id') ?? (title ? slugify(title) : undefined),
      title: title || undefined,
      body: turndown.turndown(bodyHtml).trim(),
      tags: list(el.attr('data-tags') ?? ''),
      productAreas: list(el.attr('data-product-areas') ?? ''),
      pages: list(el.attr('data-pages') ?? ''),
      locale: el.attr('data-locale') ?? el.attr('lang') ?? pageLocale ?? defaults.locale,
      status: el.attr('data-status') ?? defaults.status,
    };
    const one = single(validateArticle(raw, where), 'html', where);
    result.articles.push(...one.articles);
    result.where.push(...one.where);
    result.issues.push(...one.issues);
  });
  return result;
}

export interface ImportDefaults {
  status: ArticleStatus;
  locale: string;
}

/**
 * A JSON import: an array of articles, `{ "articles": [...] }`, or
 * `{ "files": [{ "name", "content", "format"? }] }` carrying Markdown, HTML
 * or JSON files (format from the name's extension when not given).
 */
export function parseJson(body: unknown, defaults: ImportDefaults): ParsedImport {
  const result: ParsedImport = { articles: [], where: [], issues: [] };
  const withDefaults = (raw: unknown) =>
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? { status: defaults.status, locale: defaults.locale, ...raw }
      : raw;
  if (Array.isArray(body) || (body && typeof body === 'object' && 'articles' in body)) {
    const items = Array.isArray(body) ? body : (body as { articles: unknown }).articles;
    if (!Array.isArray(items)) {
      return {
        articles: [],
        where: [],
        issues: [
          { field: 'articles', rule: 'invalid_type', message: 'must be an array of articles' },
        ],
      };
    }
    if (items.length === 0) {
      return {
        articles: [],
        where: [],
        issues: [
          { field: 'articles', rule: 'too_small', message: 'must hold at least one article' },
        ],
      };
    }
    items.forEach((raw, i) => {
      const one = single(
        validateArticle(withDefaults(raw), `articles[${i}]`),
        'json',
        `articles[${i}]`,
      );
      result.articles.push(...one.articles);
      result.where.push(...one.where);
      result.issues.push(...one.issues);
    });
    return result;
  }
  if (body && typeof body === 'object' && 'files' in body) {
    const files = (body as { files: unknown }).files;
    if (!Array.isArray(files) || files.length === 0) {
      return {
        articles: [],
        where: [],
        issues: [
          {
            field: 'files',
            rule: 'invalid_type',
            message: 'must be a non-empty array of { name, content }',
          },
        ],
      };
    }
    (files as ImportFile[]).forEach((file, i) => {
      const field = `files[${i}]`;
      if (typeof file?.content !== 'string' || file.content.trim() === '') {
        result.issues.push({
          field: `${field}.content`,
          rule: 'required',
          message: 'must be the file content as a string',
        });
        return;
      }
      const name = typeof file.name === 'string' ? file.name : '';
      const format =
        (typeof file.format === 'string' ? (file.format as ImportFormat) : undefined) ??
        formatOfFileName(name);
      let one: ParsedImport;
      if (format === 'markdown') one = parseMarkdown(file.content, field, defaults);
      else if (format === 'html') one = parseHtml(file.content, field, defaults);
      else if (format === 'json') {
        let inner: unknown;
        try {
          inner = JSON.parse(file.content);
        } catch {
          result.issues.push({
            field: `${field}.content`,
            rule: 'json',
            message: 'is not valid JSON',
          });
          return;
        }
        one = parseJson(inner, defaults);
        one.issues = one.issues.map((x) => ({ ...x, field: `${field}.${x.field}` }));
        one.where = one.where.map((w) => `${field}.${w}`);
      } else {
        result.issues.push({
          field: `${field}.format`,
          rule: 'enum',
          message: 'must be markdown, html or json (or a name ending in .md, .html or .json)',
        });
        return;
      }
      result.articles.push(...one.articles);
      result.where.push(...one.where);
      result.issues.push(...one.issues);
    });
    return result;
  }
  return {
    articles: [],
    where: [],
    issues: [
      {
        field: '(body)',
        rule: 'invalid_type',
        message: 'must be an array of articles, { "articles": [...] } or { "files": [...] }',
      },
    ],
  };
}

/** Parses an import request's body in the format its Content-Type names; duplicate ids are an issue. */
export function parseImport(
  format: ImportFormat,
  body: unknown,
  defaults: ImportDefaults,
): ParsedImport {
  let result: ParsedImport;
  if (format === 'json') result = parseJson(body, defaults);
  else if (typeof body !== 'string' || body.trim() === '')
    result = {
      articles: [],
      where: [],
      issues: [{ field: '(body)', rule: 'required', message: `must be a ${format} document` }],
    };
  else if (format === 'markdown') result = parseMarkdown(body, '(body)', defaults);
  else result = parseHtml(body, '(body)', defaults);
  const seen = new Map<string, string>();
  result.articles.forEach((a, i) => {
    const where = result.where[i];
    const first = seen.get(a.id);
    if (first !== undefined)
      result.issues.push({
        field: where === '(body)' ? 'id' : `${where}.id`,
        rule: 'unique',
        message: `"${a.id}" appears more than once in this import (first at ${first})`,
      });
    else seen.set(a.id, where);
  });
  return result;
}

function single(
  checked: { article: ArticleInput } | { issues: FieldIssue[] },
  source: ArticleSource,
  where: string,
): ParsedImport {
  return 'article' in checked
    ? { articles: [{ ...checked.article, source }], where: [where], issues: [] }
    : { articles: [], where: [], issues: checked.issues };
}
