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
import { ApiKeyGuard, invalidInput, parseInput } from '@support/service-kit';
import { ARTICLE_STATUSES, articlePatchSchema, validateArticle } from '../domain/kb/article.js';
import { formatOfContentType, parseImport } from '../domain/kb/import.js';
import {
  approveSuggestionBody,
  rejectSuggestionBody,
  suggestionIdSchema,
  suggestionListQuery,
} from '../domain/kb/suggestion.js';
import { ArticleNotFound, KnowledgeBase, VersionConflict } from './db/knowledge-base.js';
import { LearningService, type ReviewOutcome } from './learning.service.js';
import { ResponderService } from './responder.service.js';

const invalid = invalidInput;
const parse = parseInput;

/** Who made a change, without storing the key: "key:" and the first 8 hex digits of its SHA-256. */
function editor(authorization: string | undefined): string {
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

const ID = z.string().regex(/^[a-z0-9][a-z0-9-]{0,119}$/, 'must be an article id (a slug)');

/**
 * The knowledge-base admin API: import (JSON, Markdown, help-center HTML),
 * list, read, update and retire articles, see every version, review the
 * learning loop's suggestions (approve or reject), and preview what the AI would
 * answer. Every route needs `Authorization: Bearer <key>` from
 * AI_RESPONDER_API_KEYS.
 */
@Controller('v1/kb')
@UseGuards(ApiKeyGuard)
export class KnowledgeBaseController {
  constructor(
    private readonly kb: KnowledgeBase,
    private readonly responder: ResponderService,
    private readonly learning: LearningService,
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
    return this.guard(() => this.kb.update(parse(ID, id, 'id'), patch, editor(authorization)));
  }

  /** Takes an article out of answers for good; it and its versions stay readable. */
  @Post('articles/:id/retire')
  @HttpCode(200)
  async retire(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
  ) {
    return this.guard(() =>
      this.kb.update(parse(ID, id, 'id'), { status: 'retired' }, editor(authorization)),
    );
  }

  /**
   * The learning loop's suggestions (from people's resolutions and agents'
   * proposals), newest first: `?status=pending` (default), `approved`,
   * `rejected` or `expired`, `limit`, `offset`. Desks review them through
   * knowledge.reviews; this is the same review for API clients.
   */
  @Get('suggestions')
  async suggestions(@Query() query: unknown) {
    return this.learning.list(parse(suggestionListQuery, query));
  }

  /** Publishes a pending suggestion as an article (optionally edited: title, body, tags); answers use it at once. */
  @Post('suggestions/:id/approve')
  @HttpCode(200)
  async approve(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ) {
    const suggestionId = parse(suggestionIdSchema, id, 'id');
    const edits = parse(approveSuggestionBody, body ?? {});
    return reviewed(
      await this.learning.review({
        reviewId: randomUUID(),
        suggestionId,
        decision: 'approve',
        reviewerId: editor(authorization),
        ...edits,
      }),
      id,
    );
  }

  /** Rejects a pending suggestion (optional `{reason}`). */
  @Post('suggestions/:id/reject')
  @HttpCode(200)
  async reject(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ) {
    const suggestionId = parse(suggestionIdSchema, id, 'id');
    const { reason } = parse(rejectSuggestionBody, body ?? {});
    return reviewed(
      await this.learning.review({
        reviewId: randomUUID(),
        suggestionId,
        decision: 'reject',
        reviewerId: editor(authorization),
        reason,
      }),
      id,
    );
  }

  /** What the AI would propose for a message: intent, evidence, confidence, citations. Changes nothing. */
  @Post('preview')
  @HttpCode(200)
  async preview(@Body() body: unknown) {
    const { text, locale, pageUrl } = parse(previewBody, body);
    return this.responder.propose({ messageId: randomUUID(), text, locale, pageUrl });
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

/** A review's outcome as the API answers it: 404 unknown, 409 no longer pending. */
function reviewed(outcome: ReviewOutcome, id: string) {
  if (outcome.kind === 'unknown')
    throw new NotFoundException({ error: 'not_found', message: `no suggestion "${id}"` });
  if (outcome.kind === 'not_pending') {
    throw new ConflictException({
      error: 'already_reviewed',
      message: `suggestion "${id}" is ${outcome.status}`,
      issues: [{ field: 'id', rule: 'pending', message: `the suggestion is ${outcome.status}` }],
    });
  }
  return outcome;
}
