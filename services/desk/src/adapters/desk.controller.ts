import {
  Body,
  Inject,
  ConflictException,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { deterministicId } from '@support/bus';
import { CONFIG, parseInput } from '@support/service-kit';
import { actionInputSchema } from '../domain/actions.js';
import {
  articleDraftFrom,
  draftFor,
  laneOf,
  queueItem,
  reviewOf,
  sortQueue,
} from '../domain/queue.js';
import type { Config } from '../config.js';
import { DeskPublisher } from './actions.js';
import { DeskReadModel } from './read-model.js';
import { CurrentAgent, SessionGuard, type Agent } from './session.js';

const presenceSchema = z.object({ status: z.enum(['online', 'away', 'offline']) });
const conversationIdSchema = z.uuid({ message: 'must be a conversation id (UUID)' });
const idempotencySchema = z.string().trim().min(1).max(200).optional();

/**
 * The agent desk's API, for the desk's web app (signed in with a session
 * cookie, see SessionController): the queue, a conversation with its briefing and the AI's draft,
 * actions, presence, and a stream of changes (SSE).
 */
@Controller('v1')
export class DeskController implements BeforeApplicationShutdown {
  /** Open event streams, ended at shutdown so that the HTTP server can close. */
  private readonly streams = new Set<Response>();

  constructor(
    private readonly model: DeskReadModel,
    private readonly publisher: DeskPublisher,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** The agent's desk: offered to them, theirs, the waiting queue and colleagues' conversations. */
  @Get('desk/queue')
  @UseGuards(SessionGuard)
  async queue(@CurrentAgent() agent: Agent) {
    const states = await this.model.open();
    const items = await Promise.all(
      states.map(async (s) =>
        queueItem(s, agent.agentId, await this.model.assignment(s.handoff!.handoffId)),
      ),
    );
    return { items: sortQueue(items.filter((i) => i !== undefined)) };
  }

  /** One conversation: its state and transcript, the briefing, the AI's draft reply. */
  @Get('desk/conversations/:id')
  @UseGuards(SessionGuard)
  async conversation(@CurrentAgent() agent: Agent, @Param('id') id: string) {
    parseInput(conversationIdSchema, id, 'conversationId');
    const state = await this.model.state(id);
    if (state.status === 'new' || !state.handoff)
      throw new NotFoundException(`no handoff in conversation ${id}`);
    const { appliedEventIds: _ids, ...conversation } = state;
    const handoffId = state.handoff.handoffId;
    return {
      conversation,
      lane: laneOf(state, agent.agentId),
      briefing: (await this.model.briefing(handoffId)) ?? null,
      assignment: (await this.model.assignment(handoffId)) ?? null,
      draft: draftFor(state) ?? null,
      review: reviewOf(state) ?? null,
      articleDraft: articleDraftFrom(state),
    };
  }

  /** An action on the conversation (202: published; ingest appends it to the log). */
  @Post('desk/conversations/:id/actions')
  @HttpCode(202)
  @UseGuards(SessionGuard)
  async act(
    @CurrentAgent() agent: Agent,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    parseInput(conversationIdSchema, id, 'conversationId');
    const input = parseInput(actionInputSchema, body);
    const key = parseInput(idempotencySchema, idempotencyKey, 'Idempotency-Key');
    const problem = await this.model.refusal(
      id,
      agent.agentId,
      input,
      this.config.DESK_CATCH_UP_MS,
    );
    if (problem) throw new ConflictException(problem);
    const actionId = await this.publisher.action(
      id,
      { agentId: agent.agentId, name: agent.name },
      input,
      {
        source: 'desk',
        ...(key ? { actionId: deterministicId('desk-idempotency', agent.agentId, key) } : {}),
      },
    );
    return { actionId };
  }

  /** The desk reports the agent online or away (the web app repeats it every 20 s), or offline. */
  @Post('desk/presence')
  @HttpCode(202)
  @UseGuards(SessionGuard)
  async presence(@CurrentAgent() agent: Agent, @Body() body: unknown) {
    const { status } = parseInput(presenceSchema, body);
    await this.publisher.presence(agent.agentId, status);
    return { status };
  }

  /** Server-sent events: `update` whenever a conversation with a handoff changes. */
  @Get('desk/stream')
  @UseGuards(SessionGuard)
  stream(@CurrentAgent() agent: Agent, @Req() req: Request, @Res() res: Response): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    res.write(`event: ready\ndata: ${JSON.stringify({ agentId: agent.agentId })}\n\n`);
    const stop = this.model.listen((u) => {
      res.write(
        `event: update\ndata: ${JSON.stringify({ ...u, forMe: u.agentIds.includes(agent.agentId) })}\n\n`,
      );
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    this.streams.add(res);
    req.on('close', () => {
      clearInterval(keepAlive);
      stop();
      this.streams.delete(res);
    });
  }

  /** Ends the open streams (browsers reconnect, to another replica); else shutdown waits for them. */
  beforeApplicationShutdown(): void {
    for (const res of this.streams) res.end();
  }
}
