import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyGuard, apiKeyActor, AuditTrail, parseInput } from '@support/service-kit';
import { AuditLog, auditQuerySchema } from './audit.js';
import { DeskDatabase, loginInputSchema, loginNameSchema, type LoginChange } from './db/store.js';
import type { LoginRow } from './db/schema.js';
import { webhookInputSchema, WebhookService } from './webhooks.js';

const deliveryQuerySchema = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** The action a PUT of a login is recorded as. */
function loginAction(change: LoginChange, disabled: boolean): string {
  if (change.created) return 'login.created';
  if (change.changed.includes('disabled')) return disabled ? 'login.disabled' : 'login.enabled';
  return 'login.updated';
}

/** Where a webhook posts to, without its path or query (a Slack URL's path is its secret). */
const target = (url: string) => new URL(url).origin;

/**
 * The desk's administration, with an API key (DESK_API_KEYS): desk logins,
 * webhook subscriptions with their deliveries, and the audit log. Every change
 * is recorded on admin.audit, with the key's fingerprint as the actor.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class AdminController {
  constructor(
    private readonly db: DeskDatabase,
    private readonly hooks: WebhookService,
    private readonly audit: AuditTrail,
    private readonly auditLog: AuditLog,
  ) {}

  @Get('logins')
  async logins() {
    return { logins: await this.db.logins() };
  }

  /**
   * Creates or replaces the login (an e-mail address or user name) for an agent of the router's
   * directory. A new password, another agent or disabling it ends the login's sessions.
   */
  @Put('logins/:login')
  async putLogin(
    @Param('login') login: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const name = parseInput(loginNameSchema, login, 'login');
    const input = parseInput(loginInputSchema, body);
    const change = await this.db.putLogin(name, input);
    const { password: _p, ...rest } = input;
    if (change.created || change.changed.length > 0)
      await this.audit.record({
        actor: apiKeyActor(authorization),
        action: loginAction(change, input.disabled),
        resourceType: 'login',
        resourceId: name,
        detail: {
          ...rest,
          ...(change.created ? {} : { changed: change.changed }),
          sessionsEnded: change.sessionsEnded,
        },
      });
    return { login: name, ...rest };
  }

  /** Removes the login; its sessions end with it. */
  @Delete('logins/:login')
  @HttpCode(204)
  async deleteLogin(
    @Param('login') login: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    const removed: LoginRow | undefined = await this.db.deleteLogin(login.toLowerCase());
    if (!removed) throw new NotFoundException(`no login ${login}`);
    await this.audit.record({
      actor: apiKeyActor(authorization),
      action: 'login.removed',
      resourceType: 'login',
      resourceId: removed.login,
      detail: { agentId: removed.agentId, name: removed.name },
    });
  }

  /**
   * Subscribes a URL to some of handoff.requested, handoff.assignment, churn_risk and
   * knowledge_gap, in the standard or the slack format; the answer holds the signing secret,
   * shown only here. An unknown event or format, or a target that is not a public address
   * (unless allowed), is a 400 naming the field.
   */
  @Post('webhooks')
  @HttpCode(201)
  async createWebhook(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const created = await this.hooks.create(parseInput(webhookInputSchema, body));
    await this.audit.record({
      actor: apiKeyActor(authorization),
      action: 'webhook.created',
      resourceType: 'webhook',
      resourceId: created.id,
      detail: {
        target: target(created.url),
        events: created.events,
        format: created.format,
        description: created.description,
      },
    });
    return created;
  }

  @Get('webhooks')
  async webhooks() {
    return { webhooks: await this.hooks.list() };
  }

  @Delete('webhooks/:id')
  @HttpCode(204)
  async deleteWebhook(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    const removed = await this.hooks.remove(id);
    if (!removed) throw new NotFoundException(`no webhook ${id}`);
    await this.audit.record({
      actor: apiKeyActor(authorization),
      action: 'webhook.removed',
      resourceType: 'webhook',
      resourceId: removed.id,
      detail: { target: target(removed.url), events: removed.events },
    });
  }

  @Get('webhooks/:id/deliveries')
  async deliveries(@Param('id') id: string, @Query() query: unknown) {
    const { status, limit } = parseInput(deliveryQuerySchema, query, 'query');
    return { deliveries: await this.hooks.deliveries(id, status, limit) };
  }

  @Post('webhooks/:id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  async retry(
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @Headers('authorization') authorization: string | undefined,
  ) {
    if (!(await this.hooks.retry(id, deliveryId)))
      throw new NotFoundException(`no delivery ${deliveryId}`);
    await this.audit.record({
      actor: apiKeyActor(authorization),
      action: 'webhook.delivery_retried',
      resourceType: 'webhook',
      resourceId: id,
      detail: { deliveryId },
    });
    return { deliveryId, status: 'pending' };
  }

  /**
   * Administrative changes of every service (admin.audit), newest first: `from` (inclusive)
   * and `to` (exclusive) as RFC 3339 times, `resourceType`, `resourceId`, `actor`, `limit`
   * (100, at most 1000).
   */
  @Get('audit')
  async auditRecords(@Query() query: unknown) {
    return { records: await this.auditLog.find(parseInput(auditQuerySchema, query)) };
  }
}
