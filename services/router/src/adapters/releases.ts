import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { isWithPerson, type ConversationLifecycle } from '@support/conversation';
import { JsonLogger } from '@support/service-kit';
import type { AssignedTo, EndedReason } from '../domain/lifecycle.js';
import { nextHandleAverage } from '../domain/waiting.js';
import { LoadStore } from './load-store.js';
import { RouterPublisher, type Cause } from './publisher.js';
import { QueueServer } from './queue-server.js';

const endedCounter = new Counter({
  name: 'router_assignments_ended_total',
  help: 'Assignments that ended: declined, timed out (not accepted in time), handed back, resolved',
  labelNames: ['reason'],
});

/**
 * Letting agents go: who holds a handoff (the conversation's state and Redis), ending their
 * assignments (the release published first, then the slot freed), a resolved conversation's
 * agent freed and the queue served, and how long the agent held it for the wait estimates.
 */
@Injectable()
export class Releases {
  constructor(
    private readonly loads: LoadStore,
    private readonly queue: QueueServer,
    private readonly publisher: RouterPublisher,
    private readonly logger: JsonLogger,
  ) {}

  /** The agents who hold a handoff: the one in the conversation's state and the one Redis names (they may differ in a race). */
  async holders(handoffId: string, known?: AssignedTo): Promise<AssignedTo[]> {
    const holder = await this.loads.holder(handoffId);
    const out = known ? [known] : [];
    if (holder && holder !== known?.agentId) {
      const agent = await this.queue.describe(holder);
      out.push({ agentId: agent.id, agentName: agent.name, team: agent.team, assignedAt: '' });
    }
    return out;
  }

  /**
   * Ends agents' assignments: desks see them RELEASED (with why) first, then
   * the slots are freed and any deadline to accept dropped. In that order, a
   * desk never sees an agent hold more than they can: a slot is only taken
   * again after its release was published.
   */
  async letGo(
    conversationId: string,
    handoffId: string,
    agents: readonly AssignedTo[],
    reason: EndedReason,
    cause: Cause,
  ): Promise<void> {
    for (const agent of agents) {
      await this.publisher.released({ conversationId, handoffId }, agent, reason, cause);
      await this.loads.release(agent.agentId, handoffId);
      await this.loads.acceptanceSettled(handoffId, agent.agentId);
      endedCounter.inc({ reason });
    }
  }

  /** How long the agent held the conversation feeds the running average behind wait estimates. */
  async recordHandleTime(before: ConversationLifecycle, endedAt: string): Promise<void> {
    // Only a conversation a person held until now: not one handed back earlier.
    if (before.status !== 'with_human' || before.handoff?.handedBackAt) return;
    const assignedAt = before.handoff?.agent?.assignedAt;
    if (!assignedAt) return;
    const seconds = (Date.parse(endedAt) - Date.parse(assignedAt)) / 1000;
    if (!(seconds > 0)) return;
    const previous = await this.loads.averageHandleSeconds();
    await this.loads.setAverageHandleSeconds(nextHandleAverage(previous, seconds));
  }

  /** The conversation ended: free its agent (and serve the queue) or drop it from the queue. */
  async resolved(before: ConversationLifecycle, cause: Cause): Promise<void> {
    const handoff = before.handoff;
    if (!handoff) return;
    // An agent who handed it back, or whose conversation ended before, was let go then.
    const current =
      isWithPerson(before) && !handoff.handedBackAt && handoff.agent
        ? {
            agentId: handoff.agent.agentId,
            agentName: handoff.agent.agentName,
            team: handoff.agent.team,
            assignedAt: handoff.agent.assignedAt,
          }
        : undefined;
    // Redis is the truth about who holds it: the holder may not be in this replica's snapshot yet.
    const agents = await this.holders(handoff.handoffId, current);
    await this.loads.dropQueued(handoff.handoffId);
    if (agents.length === 0) return;
    await this.letGo(before.conversationId, handoff.handoffId, agents, 'resolved', cause);
    this.logger.log('agent released', {
      conversationId: before.conversationId,
      handoffId: handoff.handoffId,
      agentIds: agents.map((a) => a.agentId),
      correlationId: cause.correlationId,
    });
    await this.queue.serveQueue(cause);
  }
}
