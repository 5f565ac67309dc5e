import { Injectable } from '@nestjs/common';
import type { ConversationLifecycle } from '@support/conversation';
import { JsonLogger } from '@support/service-kit';
import { handoffTarget } from '../domain/handoff.js';
import type { LifecycleStep } from '../domain/lifecycle.js';
import type { RoutingPolicy } from '../domain/routing-policy.js';
import { HandoffRouting } from './handoff-routing.js';
import { LoadStore } from './load-store.js';
import { RouterPublisher, type Cause } from './publisher.js';
import { QueueServer } from './queue-server.js';
import { Releases } from './releases.js';

/**
 * An assignment's next steps after it reached the log: a deadline to accept kept, an acceptance,
 * a pass (declined or not accepted in time: routed again without that agent), a review decided
 * or taken over, a handback, a late assignment let go.
 */
@Injectable()
export class AssignmentFollower {
  constructor(
    private readonly loads: LoadStore,
    private readonly queue: QueueServer,
    private readonly publisher: RouterPublisher,
    private readonly routing: HandoffRouting,
    private readonly releases: Releases,
    private readonly logger: JsonLogger,
  ) {}

  private get policy(): RoutingPolicy {
    return this.queue.policy;
  }

  /** What an assignment's next step means: a deadline kept, an acceptance, a pass, a handback, a late assignment let go. */
  async follow(
    step: LifecycleStep,
    {
      before,
      after,
      occurredAt,
      cause,
    }: {
      before: ConversationLifecycle;
      after: ConversationLifecycle;
      occurredAt: string;
      cause: Cause;
    },
  ): Promise<void> {
    const context = {
      conversationId: after.conversationId,
      handoffId: step.handoffId,
      correlationId: cause.correlationId,
    };
    switch (step.kind) {
      case 'awaitAcceptance':
        await this.loads.awaitAcceptance({
          conversationId: after.conversationId,
          handoffId: step.handoffId,
          agentId: step.agentId,
          assignedAt: step.assignedAt,
          acceptBy: step.acceptBy,
          correlationId: cause.correlationId,
          causationId: cause.causationId,
        });
        return;
      case 'accepted': {
        const deadline = await this.loads.pendingAcceptance(step.handoffId, step.agent.agentId);
        await this.loads.acceptanceSettled(step.handoffId, step.agent.agentId);
        const target = handoffTarget(after, cause.correlationId);
        if (!target) return;
        // Without acceptance the customer heard who joined at the assignment already.
        // A reviewer accepting a review does not join: the customer hears of them if they take it over.
        await this.publisher.accepted(
          target,
          step.agent,
          cause,
          !target.review && (Boolean(deadline) || this.policy.acceptWithinSeconds > 0),
        );
        this.logger.log('assignment accepted', { ...context, agentId: step.agent.agentId });
        return;
      }
      case 'passed': {
        await this.releases.letGo(
          after.conversationId,
          step.handoffId,
          [step.agent],
          step.reason,
          cause,
        );
        this.logger.log(
          step.reason === 'declined'
            ? 'agent declined: routing again'
            : 'not accepted in time: routing again',
          { ...context, agentId: step.agent.agentId },
        );
        // Again, without everyone who passed on it (the target carries them).
        const target = handoffTarget(after, cause.correlationId);
        if (target) await this.routing.route(target, cause);
        // The freed slot may serve someone else who waits.
        await this.queue.serveQueue(cause);
        return;
      }
      case 'reviewed':
      case 'takenOver':
        return this.reviewDecided(step, after, cause);
      case 'handedBack': {
        const agents = await this.releases.holders(step.handoffId, step.agent);
        await this.releases.letGo(
          after.conversationId,
          step.handoffId,
          agents,
          'handed_back',
          cause,
        );
        await this.loads.dropQueued(step.handoffId);
        const target = handoffTarget(after, cause.correlationId);
        if (target) await this.publisher.handedBack(target, step.agentName, cause);
        await this.releases.recordHandleTime(before, occurredAt);
        this.logger.log('handed back to the AI: agent released', {
          ...context,
          agentIds: agents.map((a) => a.agentId),
        });
        await this.queue.serveQueue(cause);
        return;
      }
      case 'lateAssignment':
        // The conversation left the people before this assignment reached the log: let the agent go at once.
        await this.releases.letGo(
          after.conversationId,
          step.handoffId,
          [step.agent],
          step.reason,
          cause,
        );
        this.logger.warn('late assignment released', {
          ...context,
          agentId: step.agent.agentId,
          reason: step.reason,
        });
        await this.queue.serveQueue(cause);
        return;
    }
  }

  /**
   * The reviewer decided: approved or edited, they let the review go (the
   * reply went out through ingest); taken over, it is theirs, accepted, and
   * the customer hears who joined.
   */
  private async reviewDecided(
    step: Extract<LifecycleStep, { kind: 'reviewed' | 'takenOver' }>,
    after: ConversationLifecycle,
    cause: Cause,
  ): Promise<void> {
    const context = { conversationId: after.conversationId, handoffId: step.handoffId };
    if (step.kind === 'takenOver') {
      await this.loads.acceptanceSettled(step.handoffId, step.agent.agentId);
      const target = handoffTarget(after, cause.correlationId);
      if (target) await this.publisher.accepted(target, step.agent, cause, true);
      this.logger.log('review taken over', { ...context, agentId: step.agent.agentId });
      return;
    }
    const agents = await this.releases.holders(step.handoffId, step.agent);
    await this.releases.letGo(after.conversationId, step.handoffId, agents, 'reviewed', cause);
    await this.loads.dropQueued(step.handoffId);
    this.logger.log('review decided: reviewer released', {
      ...context,
      agentId: step.agent.agentId,
    });
    await this.queue.serveQueue(cause);
  }
}
