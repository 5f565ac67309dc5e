import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import {
  isResolved,
  isWithPerson,
  lifecycleProjection,
  type ConversationLifecycle,
} from '@support/conversation';
import { JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, type Applied } from '@support/stream';
import { attemptOf, handoffTarget, queueScore, type HandoffTarget } from '../domain/handoff.js';
import {
  lifecycleStep,
  type AssignedTo,
  type EndedReason,
  type LifecycleStep,
} from '../domain/lifecycle.js';
import { assignmentReason, rankAgents } from '../domain/routing.js';
import { stepAt, type RoutingPolicy } from '../domain/routing-policy.js';
import { nextOnDuty, onDuty as isOnDuty } from '../domain/directory.js';
import { contactIn, nextHandleAverage } from '../domain/waiting.js';
import { Roster } from './db/roster.js';
import { restoreHotState } from './hot-state.js';
import { LoadStore } from './load-store.js';
import { QueueServer, handoffsCounter } from './queue-server.js';
import {
  RouterPublisher,
  type AssignedAgent,
  type AssignmentWhy,
  type Cause,
} from './publisher.js';

const endedCounter = new Counter({
  name: 'router_assignments_ended_total',
  help: 'Assignments that ended: declined, timed out (not accepted in time), handed back, resolved',
  labelNames: ['reason'],
});

/**
 * Reacts to the conversation log: routes each new handoff to an agent or
 * the queue; follows each assignment (accepted, or declined / not accepted
 * in time and routed again without that agent); and when an agent lets a
 * conversation go (handed back, resolved), frees the agent and serves the queue.
 */
@Injectable()
export class RouterService implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly roster: Roster,
    private readonly loads: LoadStore,
    private readonly queue: QueueServer,
    private readonly publisher: RouterPublisher,
    private readonly logger: JsonLogger,
  ) {}

  /** The routing policy (routing/default.yaml or ROUTER_POLICY_FILE): the relaxation steps. */
  get policy(): RoutingPolicy {
    return this.queue.policy;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Exactly-once: what a log record makes the router publish (the assignment and the
    // customer's notice, a release, the queue's notices) goes out in one transaction with the
    // offset past that record; the loads and the queue in Redis are changed at once, in ways
    // that a record handled again (its transaction lost) finds and publishes the same way.
    await consumeConversationLog(this.bus, this.redis, {
      // The router follows the handoff, not the words: its snapshots hold no text.
      projection: lifecycleProjection,
      react: (applied) => this.react(applied),
      exactlyOnce: true,
      // Snapshots Redis lost come back from the log, and the loads, queue and deadlines with them.
      onRestored: async (snapshots) => {
        await restoreHotState(
          this.loads,
          this.policy,
          snapshots.map((s) => s.state),
        );
      },
    });
    // Agents may have been added to the roster while handoffs waited.
    await this.queue
      .serveQueue({ correlationId: '', causationId: '' })
      .catch((err: Error) =>
        this.logger.warn('serving the queue at start-up failed', { error: err.message }),
      );
  }

  async react({
    event,
    before,
    after,
    record,
  }: Applied<ConversationLifecycle>): Promise<ConversationEvent[] | void> {
    const cause: Cause = {
      correlationId: record.meta.correlationId,
      causationId: record.meta.eventId,
    };
    const { payload } = event;
    if (payload.case === 'handoffRequested' || payload.case === 'reviewRequested') {
      // A review is routed like a handoff: to a person with the skills, by the same steps.
      const handoffId =
        payload.case === 'handoffRequested' ? payload.value.handoffId : payload.value.reviewId;
      if (isResolved(before)) {
        // Decided on a message from before the conversation was closed: nobody is to join a closed conversation.
        this.logger.warn('handoff for a resolved conversation not routed', {
          conversationId: before.conversationId,
          handoffId,
          correlationId: cause.correlationId,
        });
        return;
      }
      const target = handoffTarget(after, cause.correlationId);
      if (target?.handoffId === handoffId) await this.route(target, cause);
    } else if (payload.case === 'conversationResolved') {
      await this.resolved(before, cause);
      await this.recordHandleTime(before, event.occurredAt);
    } else if (payload.case === 'customerMessageReceived') {
      return this.collectFollowUpContact(after, payload.value.messageId, payload.value.text, cause);
    } else {
      const step = lifecycleStep(event, before, after, this.policy);
      if (step) await this.follow(step, { before, after, occurredAt: event.occurredAt, cause });
    }
  }

  /** What an assignment's next step means: a deadline kept, an acceptance, a pass, a handback, a late assignment let go. */
  private async follow(
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
        await this.letGo(after.conversationId, step.handoffId, [step.agent], step.reason, cause);
        this.logger.log(
          step.reason === 'declined'
            ? 'agent declined: routing again'
            : 'not accepted in time: routing again',
          { ...context, agentId: step.agent.agentId },
        );
        // Again, without everyone who passed on it (the target carries them).
        const target = handoffTarget(after, cause.correlationId);
        if (target) await this.route(target, cause);
        // The freed slot may serve someone else who waits.
        await this.queue.serveQueue(cause);
        return;
      }
      case 'reviewed':
      case 'takenOver':
        return this.reviewDecided(step, after, cause);
      case 'handedBack': {
        const agents = await this.holders(step.handoffId, step.agent);
        await this.letGo(after.conversationId, step.handoffId, agents, 'handed_back', cause);
        await this.loads.dropQueued(step.handoffId);
        const target = handoffTarget(after, cause.correlationId);
        if (target) await this.publisher.handedBack(target, step.agentName, cause);
        await this.recordHandleTime(before, occurredAt);
        this.logger.log('handed back to the AI: agent released', {
          ...context,
          agentIds: agents.map((a) => a.agentId),
        });
        await this.queue.serveQueue(cause);
        return;
      }
      case 'lateAssignment':
        // The conversation left the people before this assignment reached the log: let the agent go at once.
        await this.letGo(after.conversationId, step.handoffId, [step.agent], step.reason, cause);
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
    const agents = await this.holders(step.handoffId, step.agent);
    await this.letGo(after.conversationId, step.handoffId, agents, 'reviewed', cause);
    await this.loads.dropQueued(step.handoffId);
    this.logger.log('review decided: reviewer released', {
      ...context,
      agentId: step.agent.agentId,
    });
    await this.queue.serveQueue(cause);
  }

  /** The agents who hold a handoff: the one in the conversation's state and the one Redis names (they may differ in a race). */
  private async holders(handoffId: string, known?: AssignedTo): Promise<AssignedTo[]> {
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
  private async letGo(
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
  private async recordHandleTime(before: ConversationLifecycle, endedAt: string): Promise<void> {
    // Only a conversation a person held until now: not one handed back earlier.
    if (before.status !== 'with_human' || before.handoff?.handedBackAt) return;
    const assignedAt = before.handoff?.agent?.assignedAt;
    if (!assignedAt) return;
    const seconds = (Date.parse(endedAt) - Date.parse(assignedAt)) / 1000;
    if (!(seconds > 0)) return;
    const previous = await this.loads.averageHandleSeconds();
    await this.loads.setAverageHandleSeconds(nextHandleAverage(previous, seconds));
  }

  /**
   * A customer waiting for a follow-up writes an address: it is recorded and acknowledged, once.
   * The event is folded into the snapshot at once (returned), so the customer's next message,
   * handled before the log brings it back, finds the address taken.
   */
  private async collectFollowUpContact(
    state: ConversationLifecycle,
    messageId: string,
    text: string,
    cause: Cause,
  ): Promise<ConversationEvent[]> {
    const h = state.handoff;
    if (!h?.followUp || h.followUp.contact || h.agent || isResolved(state)) return [];
    const contact = contactIn(text);
    if (!contact) return [];
    const target = handoffTarget(state, cause.correlationId);
    if (!target) return [];
    return [await this.publisher.contactAdded(target, messageId, contact, cause)];
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
    handoffsCounter.inc({ outcome: 'queued' });
    this.logger.log('handoff queued: every qualified agent is at capacity', context);
    // An agent may have freed up between the attempt and the enqueue.
    await this.queue.serveQueue(cause);
  }

  /** The conversation ended: free its agent (and serve the queue) or drop it from the queue. */
  private async resolved(before: ConversationLifecycle, cause: Cause): Promise<void> {
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
