import {
  Body,
  Inject,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyGuard, CONFIG, parseInput } from '@support/service-kit';
import { actionInputSchema } from '../domain/actions.js';
import type { Config } from '../config.js';
import { DeskPublisher } from './actions.js';
import { DeskDatabase, loginInputSchema, loginNameSchema } from './db/store.js';
import { DeskReadModel } from './read-model.js';
import { webhookInputSchema, WebhookService } from './webhooks.js';

const gatewayActionSchema = z.object({
  conversationId: z.uuid({ message: 'must be a conversation id (UUID)' }),
  agentId: z.string().trim().min(1).max(100),
  agentName: z.string().trim().min(1).max(200),
  /** The desk's own id for the action: a retry with the same id is the same action. */
  actionId: z.string().trim().min(1).max(200).optional(),
});
const deliveryQuerySchema = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/**
 * For other desks and operators, with an API key (DESK_API_KEYS): agents'
 * actions over HTTP (the same as publishing on desk.actions), desk logins,
 * and webhook subscriptions with their deliveries.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class GatewayController {
  constructor(
    private readonly publisher: DeskPublisher,
    private readonly model: DeskReadModel,
    private readonly db: DeskDatabase,
    private readonly hooks: WebhookService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** An action of an agent at another desk: 202 once published; 409 when it does not fit the conversation. */
  @Post('actions')
  @HttpCode(202)
  async action(@Body() body: unknown) {
    const who = parseInput(gatewayActionSchema, body);
    const input = parseInput(actionInputSchema, body);
    const problem = await this.model.refusal(
      who.conversationId,
      who.agentId,
      input,
      this.config.DESK_CATCH_UP_MS,
    );
    if (problem) throw new ConflictException(problem);
    const actionId = await this.publisher.action(
      who.conversationId,
      { agentId: who.agentId, name: who.agentName },
      input,
      { source: 'gateway', ...(who.actionId ? { actionId: who.actionId } : {}) },
    );
    return { actionId };
  }

  @Get('logins')
  async logins() {
    return { logins: await this.db.logins() };
  }

  /** Creates or replaces the login (an e-mail address or user name) for an agent of the router's directory. */
  @Put('logins/:login')
  async putLogin(@Param('login') login: string, @Body() body: unknown) {
    const name = parseInput(loginNameSchema, login, 'login');
    const input = parseInput(loginInputSchema, body);
    await this.db.putLogin(name, input);
    const { password: _p, ...rest } = input;
    return { login: name, ...rest };
  }

  @Delete('logins/:login')
  @HttpCode(204)
  async deleteLogin(@Param('login') login: string): Promise<void> {
    if (!(await this.db.deleteLogin(login.toLowerCase())))
      throw new NotFoundException(`no login ${login}`);
  }

  /**
   * Subscribes a URL to some of handoff.requested, handoff.assignment, churn_risk and
   * knowledge_gap, in the standard or the slack format; the answer holds the signing secret,
   * shown only here. An unknown event or format is a 400 naming the field.
   */
  @Post('webhooks')
  @HttpCode(201)
  async createWebhook(@Body() body: unknown) {
    return this.hooks.create(parseInput(webhookInputSchema, body));
  }

  @Get('webhooks')
  async webhooks() {
    return { webhooks: await this.hooks.list() };
  }

  @Delete('webhooks/:id')
  @HttpCode(204)
  async deleteWebhook(@Param('id') id: string): Promise<void> {
    if (!(await this.hooks.remove(id))) throw new NotFoundException(`no webhook ${id}`);
  }

  @Get('webhooks/:id/deliveries')
  async deliveries(@Param('id') id: string, @Query() query: unknown) {
    const { status, limit } = parseInput(deliveryQuerySchema, query, 'query');
    return { deliveries: await this.hooks.deliveries(id, status, limit) };
  }

  @Post('webhooks/:id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  async retry(@Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    if (!(await this.hooks.retry(id, deliveryId)))
      throw new NotFoundException(`no delivery ${deliveryId}`);
    return { deliveryId, status: 'pending' };
  }
}
