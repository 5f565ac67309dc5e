import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus } from '@support/bus';
import { isResolved, type ConversationState } from '@support/conversation';
import {
  consumeConversationLog,
  CONFIG,
  once,
  JsonLogger,
  REDIS,
  type Applied,
} from '@support/service-kit';
import { handoffTarget, pickFromQueue, queueScore, type HandoffTarget } from '../domain/handoff.js';
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
import { LoadStore } from './load-store.js';
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

/** How many waiting handoffs one pass looks at, and assigns at most. */
const QUEUE_SCAN = 200;
const MAX_ASSIGNMENTS_PER_PASS = 25;
/** A claim from the queue whose assignment was not confirmed published this long after is published again. */
const STALLED_CLAIM_MS = 30_000;

/**
 * Reacts to the conversation log: routes each new handoff to an agent or
 * the queue, and when a conversation an agent held is resolved, frees the
 * agent and serves the queue.
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
    this.review = setInterval(() => {
      if (this.reviewing) return;
      this.reviewing = true;
      this.serveQueue({ correlationId: '', causationId: '' })
        .then(() => this.sendWaitUpdates())
        .catch((err: Error) => this.logger.warn('queue review failed', { error: err.message }))
        .finally(() => (this.reviewing = false));
    }, this.policy.reviewEverySeconds * 1000);
    this.review.unref();
    await consumeConversationLog(this.bus, this.redis, { react: (applied) => this.react(applied) });
    // Agents may have been added to the roster while handoffs waited.
    await this.serveQueue({ correlationId: '', causationId: '' }).catch((err: Error) =>
      this.logger.warn('serving the queue at start-up failed', { error: err.message }),
    );
  }

  async react({ event, before, after, record }: Applied): Promise<void> {
    const cause: Cause = {
      correlationId: record.meta.correlationId,
      causationId: record.meta.eventId,
    };
    const { payload } = event;
    if (payload.case === 'handoffRequested') {
      if (isResolved(before)) {
        // Decided on a message from before the conversation was closed: nobody is to join a closed conversation.
        this.logger.warn('handoff for a resolved conversation not routed', {
          conversationId: before.conversationId,
          handoffId: payload.value.handoffId,
          correlationId: cause.correlationId,
        });
        return;
      }
      const target = handoffTarget(after, cause.correlationId);
      if (target?.handoffId === payload.value.handoffId) await this.route(target, cause);
    } else if (payload.case === 'conversationResolved') {
      await this.resolved(before, cause);
      await this.recordHandleTime(before, event.occurredAt);
    } else if (payload.case === 'customerMessageReceived') {
      await this.collectFollowUpContact(after, payload.value.messageId, payload.value.text, cause);
    }
  }

  /** How long the agent held the conversation feeds the running average behind wait estimates. */
  private async recordHandleTime(before: ConversationState, resolvedAt: string): Promise<void> {
    const assignedAt = before.handoff?.agent?.assignedAt;
    if (!assignedAt) return;
    const seconds = (Date.parse(resolvedAt) - Date.parse(assignedAt)) / 1000;
    if (!(seconds > 0)) return;
    const previous = await this.loads.averageHandleSeconds();
    await this.loads.setAverageHandleSeconds(nextHandleAverage(previous, seconds));
  }

  /** A customer waiting for a follow-up writes an address: it is recorded and acknowledged, once. */
  private async collectFollowUpContact(
    state: ConversationState,
    messageId: string,
    text: string,
    cause: Cause,
  ): Promise<void> {
    const h = state.handoff;
    if (!h?.followUp || h.followUp.contact || h.agent || isResolved(state)) return;
    const contact = contactIn(text);
    if (!contact) return;
    const target = handoffTarget(state, cause.correlationId);
    if (!target) return;
    await once(this.redis, `router:follow-up-contact:${h.handoffId}`, () =>
      this.publisher.contactAdded(target, messageId, contact, cause),
    );
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

  /** A new handoff: to the best agent with capacity, else into the queue. */
  async route(target: HandoffTarget, cause: Cause): Promise<void> {
    const context = {
      conversationId: target.conversationId,
      handoffId: target.handoffId,
      correlationId: cause.correlationId,
    };
    let queued = false;
    await once(this.redis, `router:route:${target.handoffId}`, async () => {
      const chosen = await this.tryAssign(target);
      if (chosen) {
        const { agent, why } = chosen;
        await this.publisher.assigned(target, agent, cause, why);
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
      queued = true;
    });
    // An agent may have freed up between the attempt and the enqueue.
    if (queued) await this.serveQueue(cause);
  }

  /** The conversation ended: free its agent (and serve the queue) or drop it from the queue. */
  private async resolved(before: ConversationState, cause: Cause): Promise<void> {
    const handoff = before.handoff;
    if (!handoff) return;
    // Redis is the truth about who holds it: the holder may not be in this replica's snapshot yet.
    const holder = await this.loads.holder(handoff.handoffId);
    const agentIds = [
      ...new Set([handoff.agent?.agentId, holder].filter((id): id is string => !!id)),
    ];
    await this.loads.dropQueued(handoff.handoffId);
    if (agentIds.length === 0) return;
    for (const agentId of agentIds) await this.loads.release(agentId, handoff.handoffId);
    this.logger.log('agent released', {
      conversationId: before.conversationId,
      handoffId: handoff.handoffId,
      agentIds,
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
      );
      await this.loads.settled(pick.target.handoffId);
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
        await this.publisher.assigned(target, await this.describe(holder), {
          correlationId: target.correlationId,
          causationId: trigger.causationId,
        });
        this.logger.warn('stalled queue claim published again', {
          conversationId: target.conversationId,
          handoffId: target.handoffId,
          agentId: holder,
        });
      }
      await this.loads.settled(target.handoffId);
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
