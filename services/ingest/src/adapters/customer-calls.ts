import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { deterministicId } from '@support/bus';
import { parseCsatJson, ValidationError, type InboundMessage } from '@support/contracts';
import { IdempotencyConflict } from './fingerprints.js';
import { ConfirmRefused, IngestService } from './ingest.service.js';
import { RatingRejected } from './ratings.js';

/**
 * The customer's own calls on their conversation, the same whether a channel (with its key and
 * the conversation's stream token) or the widget (with its conversation token) makes them.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function checkConversationId(id: string): void {
  if (!UUID.test(id)) {
    throw new BadRequestException({
      error: 'validation_failed',
      issues: [
        { field: 'conversationId', rule: 'uuid', message: 'must be a conversation id (UUID)' },
      ],
    });
  }
}

/**
 * The customer confirms that the AI's answer resolved their question: the conversation is
 * resolved as the AI's (resolved_by "customer") and they are asked to rate it. 409 with the
 * reason when a person has or awaits the conversation, the AI has not answered, or it is
 * resolved already.
 */
export async function confirmAnswer(ingest: IngestService, id: string, correlationId?: string) {
  try {
    return {
      conversationId: id,
      resolvedBy: 'customer',
      ...(await ingest.confirm(id, correlationId || randomUUID())),
    };
  } catch (err) {
    if (err instanceof ConfirmRefused) {
      if (err.refusal.reason === 'not_found') throw new NotFoundException(`no conversation ${id}`);
      throw new ConflictException({
        error: 'conflict',
        reason: err.refusal.reason,
        message: err.refusal.message,
      });
    }
    throw err;
  }
}

/**
 * The customer's rating of the conversation, { score 1-5, comment?, requestId? } (requestId: the
 * CSAT request it answers; the latest by default). 400 naming the field; 409 when the
 * conversation was never asked to rate or the request is not its own. A later rating of the same
 * request replaces the earlier; the same Idempotency-Key is the same rating.
 */
export async function rateConversation(
  ingest: IngestService,
  id: string,
  body: unknown,
  idempotencyKey: string | undefined,
  correlationId: string | undefined,
) {
  let rating;
  try {
    rating = parseCsatJson(body);
  } catch (err) {
    if (err instanceof ValidationError)
      throw new BadRequestException({ error: 'validation_failed', issues: err.issues });
    throw err;
  }
  const eventId = idempotencyKey ? deterministicId('csat-rated', id, idempotencyKey) : randomUUID();
  try {
    const result = await ingest.rate(id, rating, eventId, {
      correlationId: correlationId || randomUUID(),
    });
    return { conversationId: id, score: rating.score, ...result };
  } catch (err) {
    if (err instanceof RatingRejected) {
      const { status, ...issue } = err.rejection;
      if (status === 404) throw new NotFoundException(`no conversation ${id}`);
      throw new ConflictException({ error: 'conflict', reason: issue.rule, issues: [issue] });
    }
    throw err;
  }
}

/**
 * IngestService.accept; an idempotency key that names another message is a 409 naming it, and
 * nothing is published for it.
 */
export async function acceptMessage(
  ingest: IngestService,
  message: InboundMessage,
  correlationId: string,
) {
  try {
    return await ingest.accept(message, correlationId);
  } catch (err) {
    if (err instanceof IdempotencyConflict) {
      throw new ConflictException({
        error: 'idempotency_conflict',
        issues: [
          {
            field: 'idempotencyKey',
            rule: 'reused',
            message:
              'was already used for a different message (text, customer or conversation differ): use a new key for each message',
          },
        ],
      });
    }
    throw err;
  }
}
