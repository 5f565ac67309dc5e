import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CONFIG } from '@support/service-kit';
import type { Config, WidgetKey } from '../config.js';
import {
  checkConversationToken,
  conversationTokenSecret,
  issueConversationToken,
  refreshRefusal,
  type ConversationClaims,
  type IssuedToken,
} from '../domain/conversation-token.js';
import { checkConversationId } from './customer-calls.js';
import { WidgetGate } from './widget-gate.js';

/**
 * Widget conversation tokens at the HTTP edge: issued for new conversations, checked (with their
 * widget key's origins and rate limits) on every call, and exchanged for new ones.
 */
@Injectable()
export class ConversationTokens {
  private readonly secret: Buffer;

  constructor(
    private readonly gate: WidgetGate,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.secret = conversationTokenSecret(config.STREAM_TOKEN_SECRET);
  }

  issue(claims: ConversationClaims, now = Date.now()): IssuedToken {
    return issueConversationToken(this.secret, claims, {
      ttlSeconds: this.config.INGEST_WIDGET_TOKEN_TTL_S,
      now,
    });
  }

  /**
   * The claims of a valid token for conversation `id`, admitted by its widget key's origins and
   * limits; 401 for an expired or invalid token, 403 for another conversation's.
   */
  async authorise(id: string, token: string, req: Request, res: Response) {
    checkConversationId(id);
    const check = checkConversationToken(this.secret, token, Date.now());
    if (!check.ok) {
      throw new UnauthorizedException(
        check.reason === 'expired'
          ? {
              error: 'token_expired',
              message: `the conversation token has expired: refresh it with POST /v1/widget/conversations/${id}/token`,
            }
          : {
              error: 'token_invalid',
              message: 'a conversation token is required: Authorization: Bearer <token>',
            },
      );
    }
    await this.gate.admit(this.keyFor(check.claims, id), req, res);
    return { claims: check.claims, expiresAt: check.expiresAt };
  }

  /**
   * A new token for conversation `id` in exchange for `token`, valid or expired up to
   * INGEST_WIDGET_REFRESH_GRACE_S ago, and never later than INGEST_WIDGET_SESSION_MAX_S after the
   * conversation began (401 token_unrefreshable: the customer starts a new conversation).
   */
  async refresh(id: string, token: string, req: Request, res: Response): Promise<IssuedToken> {
    checkConversationId(id);
    const now = Date.now();
    const check = checkConversationToken(this.secret, token, now);
    const refusal = refreshRefusal(check, {
      graceSeconds: this.config.INGEST_WIDGET_REFRESH_GRACE_S,
      sessionMaxSeconds: this.config.INGEST_WIDGET_SESSION_MAX_S,
      now,
    });
    if (refusal || (!check.ok && check.reason === 'invalid')) {
      const reason = refusal ?? 'invalid';
      throw new UnauthorizedException({
        error: reason === 'invalid' ? 'token_invalid' : 'token_unrefreshable',
        reason,
        message: {
          invalid: 'a conversation token is required: Authorization: Bearer <token>',
          grace_passed: 'the token expired too long ago to be refreshed: start a new conversation',
          session_over:
            'the conversation is too old for its tokens to be refreshed: start a new conversation',
        }[reason],
      });
    }
    await this.gate.admit(this.keyFor(check.claims, id), req, res);
    return this.issue(check.claims, now);
  }

  /** The widget key that issued a token for conversation `id`: 403 for another conversation. */
  private keyFor(claims: ConversationClaims, id: string): WidgetKey {
    if (claims.conversationId !== id) {
      throw new ForbiddenException({
        error: 'wrong_conversation',
        message: 'this token is for another conversation',
      });
    }
    const key = this.gate.byId(claims.widgetKeyId);
    if (!key) {
      throw new UnauthorizedException({
        error: 'token_invalid',
        message: `the token's widget key ${claims.widgetKeyId} is no longer configured`,
      });
    }
    return key;
  }
}
