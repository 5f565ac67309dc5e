import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { parseInput } from '@support/service-kit';
import {
  approveBody,
  rejectBody,
  suggestionIdSchema,
  suggestionListQuery,
} from '../domain/knowledge.js';
import { KnowledgeSuggestions } from './knowledge.js';
import { CurrentAgent, SessionGuard, type Agent } from './session.js';

/**
 * The knowledge suggestions awaiting approval, for signed-in agents: the list,
 * and approve (with the reviewer's edits) or reject. A decision is published
 * on knowledge.reviews (202); the AI responder applies it and the suggestion's
 * new status comes back on knowledge.events.
 */
@Controller('v1/desk/knowledge')
@UseGuards(SessionGuard)
export class KnowledgeController {
  constructor(private readonly knowledge: KnowledgeSuggestions) {}

  @Get('suggestions')
  async list(@Query() query: unknown) {
    const { status, limit } = parseInput(suggestionListQuery, query);
    return { suggestions: await this.knowledge.list(status, limit) };
  }

  @Post('suggestions/:id/approve')
  @HttpCode(202)
  async approve(@CurrentAgent() agent: Agent, @Param('id') id: string, @Body() body: unknown) {
    const input = parseInput(approveBody, body ?? {});
    await this.pending(id);
    return { reviewId: await this.knowledge.publishReview(id, agent, { approve: input }) };
  }

  @Post('suggestions/:id/reject')
  @HttpCode(202)
  async reject(@CurrentAgent() agent: Agent, @Param('id') id: string, @Body() body: unknown) {
    const input = parseInput(rejectBody, body ?? {});
    await this.pending(id);
    return { reviewId: await this.knowledge.publishReview(id, agent, { reject: input }) };
  }

  /** 404 for an unknown suggestion, 409 for one that is no longer pending. */
  private async pending(id: string): Promise<void> {
    parseInput(suggestionIdSchema, id, 'id');
    const row = await this.knowledge.get(id);
    if (!row) throw new NotFoundException(`no suggestion ${id}`);
    if (row.status !== 'pending') {
      throw new ConflictException({
        error: 'not_pending',
        message: `the suggestion is ${row.status}`,
        issues: [{ field: 'id', rule: 'pending', message: `the suggestion is ${row.status}` }],
      });
    }
  }
}
