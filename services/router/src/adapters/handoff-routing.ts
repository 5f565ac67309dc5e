import { Injectable } from '@nestjs/common';
import { afterTransaction } from '@support/bus';
import { JsonLogger } from '@support/service-kit';
import { attemptOf, queueScore, type HandoffTarget } from '../domain/handoff.js';
import { nextOnDuty, onDuty as isOnDuty } from '../domain/directory.js';
import { stepAt, type RoutingPolicy } from '../domain/routing-policy.js';
import { assignmentReason, rankAgents } from '../domain/routing.js';
import { Roster } from './db/roster.js';
import { LoadStore } from './load-store.js';
import {
  RouterPublisher,
  type AssignedAgent,
  type AssignmentWhy,
  type Cause,
} from './publisher.js';
import { QueueServer, handoffsCounter } from './queue-server.js';

/** Routing one handoff: to the best agent with room, else into the queue with the wait it faces. */
@Injectable()
export class HandoffRouting {
  constructor(
    private readonly roster: Roster,
    private readonly loads: LoadStore,
    private readonly queue: QueueServer,
    private readonly publisher: RouterPublisher,
    private readonly logger: JsonLogger,
  ) {}

  private get policy(): RoutingPolicy {
    return this.queue.policy;
  }

  /**
   * A new handoff, or one an agent passed on: to the best agent with capacity
   * (never one who passed on it), else into the queue. Once per attempt: its record's
   * transaction publishes it once, and a record handled again after a lost transaction finds
   * the agent it claimed in Redis ("already held") or the queue's entry, and publishes the same.
   */
  async route(target: HandoffTarget, cause: Cause): Promise<void> {
    const attempt = attemptOf(target);
    const context = {
      conversationId: target.conversationId,
      handoffId: target.handoffId,
      correlationId: cause.correlationId,
      ...(attempt ? { attempt } : {}),
    };
    const chosen = await this.tryAssign(target);
    if (chosen) {
      const { agent, why } = chosen;
      await this.publisher.assigned(target, agent, cause, why, this.policy.acceptWithinSeconds);
      await this.loads.dropQueued(target.handoffId); // queued by an earlier attempt that failed to publish
      handoffsCounter.inc({ outcome: 'assigned' });
      this.logger.log('handoff assigned', { ...context, agentId: agent.id, reason: why.reason });
      return;
    }
    await this.loads.enqueue(target, queueScore(target.priority, Date.parse(target.requestedAt)));
    // One read of the roster serves the estimate and the off-hours check.
    const now = new Date();
    const active = await this.roster.active();
    const onDuty = active.filter((a) => isOnDuty(a, now));
    const wait = await this.queue.waitInfo(target, onDuty.length ? onDuty : active);
    if (onDuty.length === 0) {
      // Nobody on duty: say from when someone will answer, and leave a follow-up.
      const next = nextOnDuty(active, now);
      wait.offHours = { dueAt: next?.toISOString() ?? '' };
    }
    await this.publisher.queued(target, cause, wait);
    // The others may serve it once the notice is out (LoadStore.enqueue).
    await afterTransaction(() => this.loads.announced(target.handoffId));
    handoffsCounter.inc({ outcome: 'queued' });
    this.logger.log('handoff queued: every qualified agent is at capacity', context);
    // An agent may have freed up between the attempt and the enqueue: in this transaction, after
    // the notice.
    await this.queue.serveQueue(cause, target.handoffId);
  }

  /** Assigns atomically to the best candidate that still has room; the holder if the handoff already has one. */
  private async tryAssign(
    target: HandoffTarget,
  ): Promise<{ agent: AssignedAgent; why: AssignmentWhy } | undefined> {
    const roster = await this.queue.available();
    const step = stepAt(this.policy, Date.now() - Date.parse(target.requestedAt));
    const existing = await this.loads.holder(target.handoffId);
    if (existing)
      return {
        agent: await this.queue.describe(existing, roster),
        why: { reason: 'already held', step: step.name, version: this.policy.version },
      };
    const loads = await this.loads.loads(roster.map((a) => a.id));
    const ranked = rankAgents(roster, target, loads, step);
    for (const agent of ranked) {
      const holder = await this.loads.assign(target.handoffId, agent.id, agent.maxConcurrent);
      if (holder)
        return {
          agent: await this.queue.describe(holder, roster),
          why: {
            reason: assignmentReason(agent, target, loads, step, ranked.length),
            step: step.name,
            version: this.policy.version,
          },
        };
    }
    return undefined;
  }
}
