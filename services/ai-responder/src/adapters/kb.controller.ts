import { createHash, randomUUID } from 'node:crypto';
import {
  Body,
  ConflictException,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { inboundMessageRules, validateMessage } from '@support/contracts';
import {
  ApiKeyGuard,
  apiKeyActor,
  AuditTrail,
  invalidInput,
  parseInput,
} from '@support/service-kit';
import {
  ARTICLE_STATUSES,
  articlePatchSchema,
  validateArticle,
  type ArticlePatch,
} from '../domain/kb/article.js';
import {
  articleCreated,
  articleImported,
  articlePatched,
  type AuditedChange,
} from '../domain/kb/audit.js';
import { formatOfContentType, parseImport } from '../domain/kb/import.js';
import { ArticleNotFound, KnowledgeBase, VersionConflict } from './db/knowledge-base.js';
import { ResponderService } from './responder.service.js';

const invalid = invalidInput;
const parse = parseInput;

/** Who made a change, without storing the key: "key:" and the first 8 hex digits of its SHA-256. */
export function editor(authorization: string | undefined): string {
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  return `key:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}

const listQuery = z.strictObject({
  status: z.enum(ARTICLE_STATUSES).optional(),
  locale: z.string().max(20).optional(),
  tag: z.string().max(60).optional(),
  productArea: z.string().max(60).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const importQuery = z.strictObject({
  status: z.enum(ARTICLE_STATUSES).default('published'),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as "en"')
    .default('en'),
});

const previewBody = z.strictObject({
  text: z.string().trim().min(1, 'must not be empty').max(4000, 'at most 4,000 characters'),
  locale: z.string().max(20).default('en'),
  /** The page the customer would be on (a path or an absolute URL). */
  pageUrl: z
    .string()
    .max(2000)
    .refine(
      (p) =>
        !p ||
        validateMessage({ pageUrl: p }, { pageUrl: inboundMessageRules.pageUrl }).length === 0,
      {
        message: 'must be an absolute http(s) URL or a path starting with "/", such as /billing',
      },
    )
    .default(''),
});

/** Records a change on admin.audit, as made by the request's API key; nothing when nothing changed. */
export async function recordChange(
  audit: AuditTrail,
  authorization: string | undefined,
  resource: { resourceType: string; resourceId: string },
  change: AuditedChange | undefined,
): Promise<void> {
  if (!change) return;
  await audit.record({ actor: apiKeyActor(authorization), ...resource, ...change });
}

const ID = z.string().regex(/^[a-z0-9][a-z0-9-]{0,119}$/, 'must be an article id (a slug)');

/**
 * The knowledge-base admin API: import (JSON, Markdown, help-center HTML),
 * list, read, update and retire articles, see every version, and preview what
 * the AI would answer (the learning loop's suggestions: suggestions.controller.ts).
 * Every route needs `Authorization: Bearer <key>` from AI_RESPONDER_API_KEYS;
 * every change is recorded on admin.audit, with the key's fingerprint as the actor.
 */
@Controller('v1/kb')
@UseGuards(ApiKeyGuard)
export class KnowledgeBaseController {
  constructor(
    private readonly kb: KnowledgeBase,
    private readonly responder: ResponderService,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Imports articles, all or nothing: Content-Type application/json (an array,
   * `{ articles }` or `{ files: [{ name, content }] }`), text/markdown (one
   * file with front matter) or text/html (a help-center export, one article per
   * <article>). `?status=` and `?locale=` are the defaults for articles that
   * don't say.
   */
  @Post('import')
  @HttpCode(200)
  async import(
    @Headers('content-type') contentType: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Query() query: unknown,
  ) {
    const format = formatOfContentType(contentType);
    if (!format) {
      throw new UnsupportedMediaTypeException({
        error: 'unsupported_media_type',
        issues: [
          {
            field: 'Content-Type',
            rule: 'enum',
            message: 'must be application/json, text/markdown or text/html',
          },
        ],
      });
    }
    const defaults = parse(importQuery, query);
    const parsed = parseImport(format, body, defaults);
    if (parsed.issues.length) throw invalid(parsed.issues);
    const results = await this.kb.import(parsed.articles, editor(authorization));
    const titles = new Map(parsed.articles.map((a) => [a.id, a.title]));
    await Promise.all(
      results.map((r) =>
        this.record(authorization, r.id, articleImported(r, titles.get(r.id) ?? '')),
      ),
    );
    const count = (o: string) => results.filter((r) => r.outcome === o).length;
    return {
      imported: results.length,
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      results,
    };
  }

  /** Creates one article (JSON); 409 when the id exists (PATCH it instead). */
  @Post('articles')
  async create(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    const checked = validateArticle(body, '');
    if ('issues' in checked) throw invalid(checked.issues);
    if (await this.kb.get(checked.article.id)) {
      throw new ConflictException({
        error: 'already_exists',
        issues: [
          {
            field: 'id',
            rule: 'unique',
            message: `article "${checked.article.id}" exists; PATCH it`,
          },
        ],
      });
    }
    const [result] = await this.kb.import(
      [{ ...checked.article, source: 'api' }],
      editor(authorization),
      'api',
    );
    await this.record(authorization, result.id, articleCreated(result, checked.article.title));
    return result;
  }

  @Get('articles')
  async list(@Query() query: unknown) {
    return this.kb.list(parse(listQuery, query));
  }

  @Get('articles/:id')
  async get(@Param('id') id: string) {
    const article = await this.kb.get(parse(ID, id, 'id'));
    if (!article)
      throw new NotFoundException({ error: 'not_found', message: `no article "${id}"` });
    return { ...article, passages: await this.kb.passagesOf(id) };
  }

  @Get('articles/:id/versions')
  async versions(@Param('id') id: string) {
    const versions = await this.kb.versions(parse(ID, id, 'id'));
    if (versions.length === 0)
      throw new NotFoundException({ error: 'not_found', message: `no article "${id}"` });
    return { id, versions };
  }

  /** Changes some fields; a new version when anything changed. `expectedVersion` guards against lost updates (409). */
  @Patch('articles/:id')
  async update(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ) {
    const patch = parse(articlePatchSchema, body);
    return this.change(parse(ID, id, 'id'), patch, authorization);
  }

  /** Takes an article out of answers for good; it and its versions stay readable. */
  @Post('articles/:id/retire')
  @HttpCode(200)
  async retire(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
  ) {
    return this.change(parse(ID, id, 'id'), { status: 'retired' }, authorization);
  }

  /** What the AI would propose for a message: intent, evidence, confidence, citations. Changes nothing. */
  @Post('preview')
  @HttpCode(200)
  async preview(@Body() body: unknown) {
    const { text, locale, pageUrl } = parse(previewBody, body);
    return this.responder.propose({ messageId: randomUUID(), text, locale, pageUrl });
  }

  /** Applies a patch (a retirement too) and records what it changed. */
  private async change(id: string, patch: ArticlePatch, authorization: string | undefined) {
    const before = await this.kb.get(id);
    const result = await this.guard(() => this.kb.update(id, patch, editor(authorization)));
    if (before) await this.record(authorization, id, articlePatched(before, patch, result));
    return result;
  }

  private record(
    authorization: string | undefined,
    articleId: string,
    change: AuditedChange | undefined,
  ): Promise<void> {
    const resource = { resourceType: 'article', resourceId: articleId };
    return recordChange(this.audit, authorization, resource, change);
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      if (err instanceof ArticleNotFound)
        throw new NotFoundException({ error: 'not_found', message: err.message });
      if (err instanceof VersionConflict) {
        throw new ConflictException({
          error: 'version_conflict',
          message: err.message,
          issues: [
            {
              field: 'expectedVersion',
              rule: 'current_version',
              message: `the article is at version ${err.actual}`,
            },
          ],
        });
      }
      throw err;
    }
  }
}
