import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { parseInboundJson, ValidationError } from '@support/contracts';
import { ApiKeyGuard, CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';
import { streamToken, verifyStreamToken } from '../domain/ids.js';
import {
  acceptMessage,
  checkConversationId,
  confirmAnswer,
  rateConversation,
} from './customer-calls.js';
import { AlreadyResolved, ConversationNotFound, IngestService } from './ingest.service.js';
import { ReadKeyGuard } from './keys.js';
import { OutboundHistory } from './outbound-history.js';
import { streamOutbound } from './sse.js';

@Controller('v1')
export class IngestController {
  constructor(
    private readonly ingest: IngestService,
    private readonly outbound: OutboundHistory,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * A customer message from a channel. 202 with the conversation id and a
   * token for its SSE stream; 400 naming the field when the body is invalid
   * (nothing is published then).
   */
  @Post('messages')
  @HttpCode(202)
  @UseGuards(ApiKeyGuard)
  async postMessage(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyHeader: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
  ) {
    const withKey =
      idempotencyHeader &&
      typeof body === 'object' &&
      body !== null &&
      !('idempotencyKey' in body) &&
      !('idempotency_key' in body)
        ? { ...body, idempotencyKey: idempotencyHeader }
        : body;
    let message;
    try {
      message = parseInboundJson(withKey);
    } catch (err) {
      if (err instanceof ValidationError)
        throw new BadRequestException({ error: 'validation_failed', issues: err.issues });
      throw err;
    }
    const correlationId = correlationHeader || randomUUID();
    const result = await acceptMessage(this.ingest, message, correlationId);
    const token = streamToken(this.config.STREAM_TOKEN_SECRET, result.conversationId);
    return {
      ...result,
      correlationId,
      streamToken: token,
      streamUrl: `/v1/conversations/${result.conversationId}/stream?token=${token}`,
    };
  }

  /** The conversation's state as ingest folds it from the log (for agents and operators). */
  @Get('conversations/:id')
  @UseGuards(ReadKeyGuard)
  async getConversation(@Param('id') id: string) {
    checkConversationId(id);
    const state = await this.ingest.state(id);
    if (state.status === 'new') throw new NotFoundException(`no conversation ${id}`);
    const { appliedEventIds: _ids, ...rest } = state;
    return rest;
  }

  /** The channel or customer closes the conversation. */
  @Post('conversations/:id/resolve')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  async resolve(
    @Param('id') id: string,
    @Body() body: { resolvedBy?: unknown; note?: unknown } | undefined,
  ) {
    checkConversationId(id);
    const resolvedBy = body?.resolvedBy ?? 'customer';
    const note = body?.note ?? '';
    if (typeof resolvedBy !== 'string' || resolvedBy.length > 200) {
      throw new BadRequestException({
        error: 'validation_failed',
        issues: [
          {
            field: 'resolvedBy',
            rule: 'type',
            message: 'must be a string of at most 200 characters',
          },
        ],
      });
    }
    if (typeof note !== 'string' || note.length > 2000) {
      throw new BadRequestException({
        error: 'validation_failed',
        issues: [
          { field: 'note', rule: 'type', message: 'must be a string of at most 2000 characters' },
        ],
      });
    }
    try {
      // The answer stays { conversationId, resolution } (clients compare it whole); the CSAT
      // request it caused is on support.outbound.
      const { resolution } = await this.ingest.resolve(id, resolvedBy, note);
      return { conversationId: id, resolution };
    } catch (err) {
      if (err instanceof ConversationNotFound) throw new NotFoundException(`no conversation ${id}`);
      if (err instanceof AlreadyResolved)
        throw new ConflictException(`conversation ${id} is already resolved`);
      throw err;
    }
  }

  /**
   * The customer's own calls (the web chat's "this answered my question" and
   * rating) carry, besides the channel's API key, the conversation's stream
   * token from POST /v1/messages: a customer acts on their own conversation only.
   */
  private checkCustomer(id: string, token: string | undefined): void {
    checkConversationId(id);
    if (!token || !verifyStreamToken(this.config.STREAM_TOKEN_SECRET, id, token)) {
      throw new ForbiddenException(
        'a valid stream token for this conversation is required (header X-Stream-Token)',
      );
    }
  }

  /** See confirmAnswer. */
  @Post('conversations/:id/confirm')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  async confirm(
    @Param('id') id: string,
    @Headers('x-stream-token') token: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
  ) {
    this.checkCustomer(id, token);
    return confirmAnswer(this.ingest, id, correlationHeader);
  }

  /** See rateConversation. */
  @Post('conversations/:id/csat')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  async rate(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('x-stream-token') token: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
  ) {
    this.checkCustomer(id, token);
    return rateConversation(this.ingest, id, body, idempotencyKey, correlationHeader);
  }

  /**
   * Server-sent events: the conversation's outbound messages (AI replies,
   * system messages, agent replies), history first, then live. Resumes after
   * the Last-Event-ID header when the browser reconnects.
   */
  @Get('conversations/:id/stream')
  async stream(
    @Param('id') id: string,
    @Query('token') token: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    checkConversationId(id);
    if (!token || !verifyStreamToken(this.config.STREAM_TOKEN_SECRET, id, token)) {
      throw new ForbiddenException('a valid stream token for this conversation is required');
    }
    await streamOutbound(this.outbound, id, req, res);
  }
}
