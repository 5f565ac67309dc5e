import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { afterTransaction, Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import {
  isResolved,
  isWithPerson,
  lifecycleProjection,
  type ConversationLifecycle,
} from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, isDone, once, type Applied } from '@support/stream';
import {
  attemptOf,
  handoffTarget,
  pickFromQueue,
  queueScore,
  type HandoffTarget,
} from '../domain/handoff.js';
import {
  lifecycleStep,
  type AssignedTo,
  type EndedReason,
  type LifecycleStep,
} from '../domain/lifecycle.js';
import { assignmentReason, rankAgents, type AgentProfile } from '../domain/routing.js';
import {
  DEFAULT_ROUTING_FILE,
  loadRoutingPolicy,
  stepAt,
  type RoutingPolicy,
} from '../domain/routing-policy.js';
import type { Config } from '../config.js';
import { nextOnDuty, onDuty as isOnDuty } from '../domain/directory.js';
import {
  contactIn,
  estimateWaitSeconds,
  expectedTeam,
  nextHandleAverage,
  qualifiedCapacity,
  updateNumber,
} from '../domain/waiting.js';
import { Roster } from './db/roster.js';
import { restoreHotState } from './hot-state.js';
import { LoadStore, type PendingAcceptance } from './load-store.js';
import { PresenceStore } from './presence.js';
import {
  RouterPublisher,
  type AssignedAgent,
  type AssignmentWhy,
  type Cause,
  type WaitInfo,
} from './publisher.js';

const handoffsCounter = new Counter({
  name: 'router_handoffs_total',
  help: 'Handoffs routed: assigned at once, queued, or assigned from the queue',
  labelNames: ['outcome'],
});
const endedCounter = new Counter({
  name: 'router_assignments_ended_total',
  help: 'Assignments that ended: declined, timed out (not accepted in time), handed back, resolved',
  labelNames: ['reason'],
});

/** How many waiting handoffs one pass looks at, and assigns at most. */
const QUEUE_SCAN = 200;
const MAX_ASSIGNMENTS_PER_PASS = 25;
/** A claim from the queue whose assignment was not confirmed published this long after is published again. */
const STALLED_CLAIM_MS = 30_000;
/** How long one replica has to publish an overdue assignment's timeout before another may. */
const TIMEOUT_LEASE_S = 30;

/**
 * Reacts to the conversation log: routes each new handoff to an agent or
 * the queue; follows each assignment (accepted, or declined / not accepted
 * in time and routed again without that agent); and when an agent lets a
 * conversation go (handed back, resolved), frees the agent and serves the queue.
 */
@Injectable()
export class RouterService implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The routing policy (routing/default.yaml or ROUTER_POLICY_FILE): the relaxation steps. */
  readonly policy: RoutingPolicy;
  private readonly defaultHandleSeconds: number;
  private review?: NodeJS.Timeout;
  private reviewing = false;

  constructor(
    @Inject(CONFIG) config: Config,
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly roster: Roster,
    private readonly loads: LoadStore,
    private readonly presence: PresenceStore,
    private readonly publisher: RouterPublisher,
    private readonly logger: JsonLogger,
  ) {
    this.policy = loadRoutingPolicy(config.ROUTER_POLICY_FILE || DEFAULT_ROUTING_FILE);
    this.defaultHandleSeconds = config.ROUTER_DEFAULT_HANDLE_SECONDS;
  }

  onApplicationShutdown(): void {
    if (this.review) clearInterval(this.review);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Waiting handoffs are looked at again now and then: as they wait, their step relaxes.
    // Assignments not accepted in time are let go here too (and routed again from the log).
    this.review = setInterval(() => {
      if (this.reviewing) return;
      this.reviewing = true;
      this.expireAcceptances()
        .then(() => this.serveQueue({ correlationId: '', causationId: '' }))
        .then(() => this.sendWaitUpdates())
        .catch((err: Error) => this.logger.warn('queue review failed', { error: err.message }))
        .finally(() => (this.reviewing = false));
    }, this.policy.reviewEverySeconds * 1000);
    this.review.unref();
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
    await this.serveQueue({ correlationId: '', causationId: '' }).catch((err: Error) =>
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
        await this.serveQueue(cause);
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
        await this.serveQueue(cause);
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
        await this.serveQueue(cause);
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
    await this.serveQueue(cause);
  }

  /** The agents who hold a handoff: the one in the conversation's state and the one Redis names (they may differ in a race). */
  private async holders(handoffId: string, known?: AssignedTo): Promise<AssignedTo[]> {
    const holder = await this.loads.holder(handoffId);
    const out = known ? [known] : [];
    if (holder && holder !== known?.agentId) {
      const agent = await this.describe(holder);
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

  /**
   * Lets go of assignments not accepted in time: publishes AcceptTimedOut
   * once for each (a lease in Redis lets one replica do it; its id is fixed,
   * so a second publication after a crash changes nothing). Reacting to it on
   * the log frees the agent and routes the handoff again.
   */
  async expireAcceptances(now = Date.now()): Promise<number> {
    let published = 0;
    for (const pending of await this.loads.overdueAcceptances(now, QUEUE_SCAN)) {
      const { handoffId, agentId } = pending;
      const key = `router:accept-timeout:${handoffId}:${agentId}`;
      // Let go meanwhile (declined, handed back, resolved), or the timeout is out already.
      if ((await this.loads.holder(handoffId)) !== agentId || (await isDone(this.redis, key))) {
        await this.loads.acceptanceSettled(handoffId, agentId);
        continue;
      }
      if (!(await this.loads.leaseTimeout(handoffId, agentId, TIMEOUT_LEASE_S))) continue;
      // Accepted while this replica took the lease.
      if (!(await this.loads.pendingAcceptance(handoffId, agentId))) continue;
      if (await this.timedOut(key, pending, now)) published++;
      await this.loads.acceptanceSettled(handoffId, agentId);
    }
    return published;
  }

  private async timedOut(key: string, pending: PendingAcceptance, now: number): Promise<boolean> {
    const waited = (now - Date.parse(pending.assignedAt)) / 1000;
    const published = await once(this.redis, key, () =>
      this.publisher.acceptTimedOut(pending, Number.isFinite(waited) ? waited : 0),
    );
    if (published)
      this.logger.log('assignment not accepted in time', {
        conversationId: pending.conversationId,
        handoffId: pending.handoffId,
        agentId: pending.agentId,
        correlationId: pending.correlationId,
      });
    return published;
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

  /** Where a handoff stands in the queue now, for the customer. */
  private async waitInfo(target: HandoffTarget, roster: AgentProfile[]): Promise<WaitInfo> {
    const position = Math.max(1, await this.loads.position(target.handoffId));
    const average = (await this.loads.averageHandleSeconds()) ?? this.defaultHandleSeconds;
    return {
      position,
      seconds: estimateWaitSeconds(position, qualifiedCapacity(roster, target), average),
      team: expectedTeam(roster, target),
    };
  }

  /** Tells each waiting customer, every `updateEverySeconds`, their new place and wait. */
  async sendWaitUpdates(now = Date.now()): Promise<number> {
    const every = this.policy.updateEverySeconds;
    if (!every) return 0;
    let sent = 0;
    const waiting = await this.loads.waiting(QUEUE_SCAN);
    if (waiting.length === 0) return 0;
    const roster = await this.roster.onDuty(new Date(now));
    for (const target of waiting) {
      // Off hours the customer was told when; there is nothing new to say until someone is back.
      if (roster.length === 0) break;
      const n = updateNumber(now - Date.parse(target.requestedAt), every);
      if (n === 0) continue;
      // Taken meanwhile (by another replica's pass): nothing to say about a place in line.
      if ((await this.loads.position(target.handoffId)) === 0) continue;
      if (!(await this.loads.claimUpdate(target.handoffId, n))) continue;
      await this.publisher.waitUpdate(target, n, await this.waitInfo(target, roster));
      sent++;
    }
    return sent;
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
    const wait = await this.waitInfo(target, onDuty.length ? onDuty : active);
    if (onDuty.length === 0) {
      // Nobody on duty: say from when someone will answer, and leave a follow-up.
      const next = nextOnDuty(active, now);
      wait.offHours = { dueAt: next?.toISOString() ?? '' };
    }
    await this.publisher.queued(target, cause, wait);
    handoffsCounter.inc({ outcome: 'queued' });
    this.logger.log('handoff queued: every qualified agent is at capacity', context);
    // An agent may have freed up between the attempt and the enqueue.
    await this.serveQueue(cause);
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
    await this.serveQueue(cause);
  }

  /** Assigns atomically to the best candidate that still has room; the holder if the handoff already has one. */
  private async tryAssign(
    target: HandoffTarget,
  ): Promise<{ agent: AssignedAgent; why: AssignmentWhy } | undefined> {
    const roster = await this.available();
    const step = stepAt(this.policy, Date.now() - Date.parse(target.requestedAt));
    const existing = await this.loads.holder(target.handoffId);
    if (existing)
      return {
        agent: await this.describe(existing, roster),
        why: { reason: 'already held', step: step.name, version: this.policy.version },
      };
    const loads = await this.loads.loads(roster.map((a) => a.id));
    const ranked = rankAgents(roster, target, loads, step);
    for (const agent of ranked) {
      const holder = await this.loads.assign(target.handoffId, agent.id, agent.maxConcurrent);
      if (holder)
        return {
          agent: await this.describe(holder, roster),
          why: {
            reason: assignmentReason(agent, target, loads, step, ranked.length),
            step: step.name,
            version: this.policy.version,
          },
        };
    }
    return undefined;
  }

  /**
   * Assigns waiting handoffs, highest priority and oldest first, while some
   * agent with capacity can take one. Claims are atomic, so replicas serving
   * the queue at the same time never take the same handoff or the same slot.
   */
  async serveQueue(trigger: Cause): Promise<number> {
    await this.recoverStalledClaims(trigger);
    let served = 0;
    for (let pass = 0; pass < MAX_ASSIGNMENTS_PER_PASS; pass++) {
      const waiting = await this.loads.waiting(QUEUE_SCAN);
      if (waiting.length === 0) break;
      const roster = await this.available();
      const loads = await this.loads.loads(roster.map((a) => a.id));
      const pick = pickFromQueue(waiting, roster, loads, this.policy, Date.now());
      if (!pick) break;
      const agent = await this.claim(pick.target, pick.candidates);
      if (!agent) continue; // lost a race: look again with fresh loads
      await this.publisher.assigned(
        pick.target,
        agent,
        {
          correlationId: pick.target.correlationId || trigger.correlationId,
          causationId: trigger.causationId,
        },
        {
          reason: assignmentReason(agent, pick.target, loads, pick.step, pick.candidates.length),
          step: pick.step.name,
          version: this.policy.version,
        },
        this.policy.acceptWithinSeconds,
      );
      // Settled once the assignment is in Kafka: a claim whose transaction was lost stays
      // stalled, and is published again.
      await afterTransaction(() => this.loads.settled(pick.target.handoffId));
      handoffsCounter.inc({ outcome: 'dequeued' });
      this.logger.log('queued handoff assigned', {
        conversationId: pick.target.conversationId,
        handoffId: pick.target.handoffId,
        agentId: agent.id,
        correlationId: pick.target.correlationId,
      });
      served++;
    }
    return served;
  }

  private async claim(
    target: HandoffTarget,
    candidates: AgentProfile[],
  ): Promise<AgentProfile | undefined> {
    for (const agent of candidates) {
      const result = await this.loads.claim(target.handoffId, agent.id, agent.maxConcurrent);
      if (result === 'ok') return agent;
      if (result === 'gone') return undefined;
    }
    return undefined;
  }

  /** Publishes assignments whose claim succeeded but whose publication was never confirmed (a crash in between). */
  private async recoverStalledClaims(trigger: Cause): Promise<void> {
    for (const target of await this.loads.stalledClaims(STALLED_CLAIM_MS)) {
      const holder = await this.loads.holder(target.handoffId);
      if (holder) {
        await this.publisher.assigned(
          target,
          await this.describe(holder),
          { correlationId: target.correlationId, causationId: trigger.causationId },
          undefined,
          this.policy.acceptWithinSeconds,
        );
        this.logger.warn('stalled queue claim published again', {
          conversationId: target.conversationId,
          handoffId: target.handoffId,
          agentId: holder,
        });
      }
      await afterTransaction(() => this.loads.settled(target.handoffId));
    }
  }

  /**
   * Who may take a new handoff now: active agents within their working hours
   * and, when presence is required, online.
   */
  async available(now = new Date()): Promise<AgentProfile[]> {
    const onDuty = await this.roster.onDuty(now);
    if (!this.presence.required) return onDuty;
    const presence = await this.presence.of(onDuty.map((a) => a.id));
    return onDuty.filter((a) => presence.get(a.id) === 'online');
  }

  private async describe(agentId: string, roster?: AgentProfile[]): Promise<AssignedAgent> {
    const found =
      roster?.find((a) => a.id === agentId) ??
      (await this.roster.all()).find((a) => a.id === agentId);
    return found
      ? { id: found.id, name: found.name, team: found.team }
      : { id: agentId, name: agentId, team: '' };
  }
}
