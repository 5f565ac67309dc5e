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
import { AlreadyResolved, ConversationNotFound, IngestService } from './ingest.service.js';
import { OutboundHistory } from './outbound-history.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkConversationId(id: string): void {
  if (!UUID.test(id)) {
    throw new BadRequestException({
      error: 'validation_failed',
      issues: [
        { field: 'conversationId', rule: 'uuid', message: 'must be a conversation id (UUID)' },
      ],
    });
  }
}

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
    const result = await this.ingest.accept(message, correlationId);
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
  @UseGuards(ApiKeyGuard)
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
      return { conversationId: id, ...(await this.ingest.resolve(id, resolvedBy, note)) };
    } catch (err) {
      if (err instanceof ConversationNotFound) throw new NotFoundException(`no conversation ${id}`);
      if (err instanceof AlreadyResolved)
        throw new ConflictException(`conversation ${id} is already resolved`);
      throw err;
    }
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
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    const sent = new Set<string>();
    const send = (m: { messageId: string }) => {
      if (sent.has(m.messageId)) return;
      sent.add(m.messageId);
      res.write(`id: ${m.messageId}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`);
    };
    const buffered: { messageId: string }[] = [];
    let live = false;
    const unsubscribe = await this.outbound.subscribe(id, (m) =>
      live ? send(m) : buffered.push(m),
    );
    const history = await this.outbound.history(id);
    const lastEventId = req.headers['last-event-id'];
    const resumeAt =
      typeof lastEventId === 'string' ? history.findIndex((m) => m.messageId === lastEventId) : -1;
    for (const m of history.slice(resumeAt + 1)) send(m);
    for (const m of history.slice(0, resumeAt + 1)) sent.add(m.messageId);
    for (const m of buffered) send(m);
    live = true;
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      void unsubscribe();
    });
  }
}
