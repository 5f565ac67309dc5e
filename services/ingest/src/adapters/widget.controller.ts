import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { CustomerIdentity, parseInboundJson, ValidationError } from '@support/contracts';
import type { ConversationClaims } from '../domain/conversation-token.js';
import {
  conversationIdFor,
  WIDGET_IDEMPOTENCY_KEY_MAX,
  widgetExternalConversationId,
  widgetIdempotencyKey,
} from '../domain/ids.js';
import { checkIdentity } from '../domain/identity.js';
import { acceptMessage, confirmAnswer, rateConversation } from './customer-calls.js';
import { IngestService } from './ingest.service.js';
import { ConversationTokens } from './conversation-tokens.js';
import { bearer } from './keys.js';
import { OutboundHistory } from './outbound-history.js';
import { streamOutbound } from './sse.js';
import { WidgetGate } from './widget-gate.js';

/** The channel of widget conversations. */
const CHANNEL = 'web';

const invalid = (field: string, rule: string, message: string) =>
  new BadRequestException({ error: 'validation_failed', issues: [{ field, rule, message }] });

/** The body as an object with only the named fields, or a 400 naming the first other field. */
function fieldsOf(
  body: unknown,
  allowed: readonly string[],
  hint: string,
): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalid('(body)', 'type', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(key, 'unknown_field', hint);
  }
  return body as Record<string, unknown>;
}

/**
 * The widget API: what a browser holding only a publishable widget key may do. It starts
 * conversations of its own (each gets a short-lived conversation token), and with a conversation
 * token posts the customer's messages, follows the replies over SSE, confirms an answer, rates the
 * conversation and refreshes the token. Every request passes the key's origins and rate limits
 * (WidgetGate); channel and admin endpoints refuse widget keys and tokens alike.
 */
@Controller('v1/widget')
export class WidgetController {
  constructor(
    private readonly ingest: IngestService,
    private readonly outbound: OutboundHistory,
    private readonly gate: WidgetGate,
    private readonly tokens: ConversationTokens,
  ) {}

  /**
   * A new conversation for the widget key in `Authorization: Bearer <widget key>`, with the
   * customer's verified identity if the site signed one. Nothing is published until its first
   * message; 201 with the conversation id, its token and who the customer is.
   */
  @Post('conversations')
  @HttpCode(201)
  async start(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const key = this.gate.keyOf(bearer(req.headers.authorization));
    if (!key) {
      throw new UnauthorizedException({
        error: 'widget_key_required',
        message: 'a widget key is required: Authorization: Bearer <widget key>',
      });
    }
    await this.gate.admit(key, req, res);
    const claim = fieldsOf(
      body,
      ['customerId', 'userHash', 'identityToken'],
      'is not a field of a new conversation (customerId, userHash, identityToken)',
    );
    const now = Date.now();
    const identity = checkIdentity(claim, key, now);
    if (identity.kind === 'refused') {
      const { status, error, field, rule, message } = identity;
      throw new HttpException({ error, issues: [{ field, rule, message }] }, status);
    }
    const externalConversationId = widgetExternalConversationId(key.id, randomUUID());
    const claims: ConversationClaims = {
      conversationId: conversationIdFor(CHANNEL, externalConversationId),
      externalConversationId,
      widgetKeyId: key.id,
      ...(identity.kind === 'verified'
        ? { customerId: identity.customerId, verified: true, accountId: identity.accountId }
        : { customerId: `anon-${randomBytes(9).toString('base64url')}`, verified: false }),
      sessionStart: Math.floor(now / 1000),
    };
    const issued = this.tokens.issue(claims, now);
    return {
      conversationId: claims.conversationId,
      ...issued,
      customer: { id: claims.customerId, verified: claims.verified },
    };
  }

  /** A customer message of the token's conversation: 202, as POST /v1/messages. */
  @Post('conversations/:id/messages')
  @HttpCode(202)
  async message(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyHeader: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { claims } = await this.tokens.authorise(id, bearer(req.headers.authorization), req, res);
    const fields = fieldsOf(
      body,
      ['text', 'idempotencyKey', 'locale', 'pageUrl', 'sentAt'],
      'is not a field of a widget message (text, idempotencyKey, locale, pageUrl, sentAt); the customer and the conversation come from the token',
    );
    const idempotencyKey = fields.idempotencyKey ?? idempotencyHeader;
    if (typeof idempotencyKey !== 'string' || idempotencyKey.trim() === '')
      throw invalid('idempotencyKey', 'required', 'is required: a new one for each message');
    if (idempotencyKey.length > WIDGET_IDEMPOTENCY_KEY_MAX)
      throw invalid(
        'idempotencyKey',
        'max_length',
        `must be at most ${WIDGET_IDEMPOTENCY_KEY_MAX} characters`,
      );
    let message;
    try {
      message = parseInboundJson({
        ...fields,
        channel: CHANNEL,
        externalConversationId: claims.externalConversationId,
        customerId: claims.customerId,
        accountId: claims.accountId,
        customerIdentity: claims.verified ? CustomerIdentity.VERIFIED : CustomerIdentity.ANONYMOUS,
        idempotencyKey: widgetIdempotencyKey(claims.externalConversationId, idempotencyKey),
      });
    } catch (err) {
      if (err instanceof ValidationError)
        throw new BadRequestException({ error: 'validation_failed', issues: err.issues });
      throw err;
    }
    const correlationId = correlationHeader || randomUUID();
    const result = await acceptMessage(this.ingest, message, correlationId);
    return { ...result, correlationId };
  }

  /**
   * Server-sent events of the conversation (see streamOutbound), with the token in `?token=`
   * (EventSource sends no headers); `after` resumes after a message id. The stream ends when the
   * token expires: the client reopens it with a refreshed one.
   */
  @Get('conversations/:id/stream')
  async stream(
    @Param('id') id: string,
    @Query('token') token: string | undefined,
    @Query('after') after: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { expiresAt } = await this.tokens.authorise(
      id,
      token ?? bearer(req.headers.authorization),
      req,
      res,
    );
    await streamOutbound(this.outbound, id, req, res, {
      resumeAfter: typeof after === 'string' ? after : undefined,
      endAt: expiresAt,
    });
  }

  /** See confirmAnswer. */
  @Post('conversations/:id/confirm')
  @HttpCode(200)
  async confirm(
    @Param('id') id: string,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.tokens.authorise(id, bearer(req.headers.authorization), req, res);
    return confirmAnswer(this.ingest, id, correlationHeader);
  }

  /** See rateConversation. */
  @Post('conversations/:id/csat')
  @HttpCode(200)
  async rate(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.tokens.authorise(id, bearer(req.headers.authorization), req, res);
    return rateConversation(this.ingest, id, body, idempotencyKey, correlationHeader);
  }

  /** See ConversationTokens.refresh. */
  @Post('conversations/:id/token')
  @HttpCode(200)
  async refresh(
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const issued = await this.tokens.refresh(id, bearer(req.headers.authorization), req, res);
    return { conversationId: id, ...issued };
  }
}
