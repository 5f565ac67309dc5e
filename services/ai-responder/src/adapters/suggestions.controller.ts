import { randomUUID } from 'node:crypto';
import {
  Body,
  ConflictException,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiKeyGuard, AuditTrail, parseInput as parse } from '@support/service-kit';
import { suggestionApproved, suggestionRejected, type AuditedChange } from '../domain/kb/audit.js';
import {
  approveSuggestionBody,
  rejectSuggestionBody,
  suggestionIdSchema,
  suggestionListQuery,
} from '../domain/kb/suggestion.js';
import { editor, recordChange } from './kb.controller.js';
import { SuggestionsService, type ReviewOutcome } from './suggestions.service.js';

/**
 * The learning loop's suggestions over HTTP: list, approve, reject. Every route
 * needs `Authorization: Bearer <key>` from AI_RESPONDER_API_KEYS; every review
 * is recorded on admin.audit, with the key's fingerprint as the actor (the
 * desks' reviews on knowledge.reviews are agents' actions, not recorded here).
 */
@Controller('v1/kb')
@UseGuards(ApiKeyGuard)
export class SuggestionsController {
  constructor(
    private readonly service: SuggestionsService,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * The learning loop's suggestions (from people's resolutions and agents'
   * proposals), newest first: `?status=pending` (default), `approved`,
   * `rejected` or `expired`, `limit`, `offset`. Desks review them through
   * knowledge.reviews; this is the same review for API clients.
   */
  @Get('suggestions')
  async suggestions(@Query() query: unknown) {
    return this.service.list(parse(suggestionListQuery, query));
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
    const outcome = reviewed(
      await this.service.review({
        reviewId: randomUUID(),
        suggestionId,
        decision: 'approve',
        reviewerId: editor(authorization),
        ...edits,
      }),
      id,
    );
    if (outcome.kind === 'approved')
      await this.record(authorization, suggestionId, suggestionApproved(outcome.article, edits));
    return outcome;
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
    const outcome = reviewed(
      await this.service.review({
        reviewId: randomUUID(),
        suggestionId,
        decision: 'reject',
        reviewerId: editor(authorization),
        reason,
      }),
      id,
    );
    await this.record(authorization, suggestionId, suggestionRejected(reason));
    return outcome;
  }

  private record(
    authorization: string | undefined,
    suggestionId: string,
    change: AuditedChange,
  ): Promise<void> {
    const resource = { resourceType: 'suggestion', resourceId: suggestionId };
    return recordChange(this.audit, authorization, resource, change);
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
