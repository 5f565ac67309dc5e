import {
  Body,
  Inject,
  ConflictException,
  Controller,
  HttpCode,
  Post,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyGuard, CONFIG, parseInput } from '@support/service-kit';
import { actionInputSchema } from '../domain/actions.js';
import type { Config } from '../config.js';
import { DeskPublisher } from './actions.js';
import { DeskReadModel } from './read-model.js';

const gatewayActionSchema = z.object({
  conversationId: z.uuid({ message: 'must be a conversation id (UUID)' }),
  agentId: z.string().trim().min(1).max(100),
  agentName: z.string().trim().min(1).max(200),
  /** The desk's own id for the action: a retry with the same id is the same action. */
  actionId: z.string().trim().min(1).max(200).optional(),
});

/**
 * For other desks, with an API key (DESK_API_KEYS): agents' actions over HTTP
 * (the same as publishing on desk.actions). Logins, webhooks and the audit log
 * are the AdminController's.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class GatewayController {
  constructor(
    private readonly publisher: DeskPublisher,
    private readonly model: DeskReadModel,
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
}
