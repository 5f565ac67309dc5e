import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { afterTransaction } from '@support/bus';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { isDone, once } from '@support/stream';
import type { Config } from '../config.js';
import { pickFromQueue, type HandoffTarget } from '../domain/handoff.js';
import { assignmentReason, type AgentProfile } from '../domain/routing.js';
import {
  DEFAULT_ROUTING_FILE,
  loadRoutingPolicy,
  type RoutingPolicy,
} from '../domain/routing-policy.js';
import {
  estimateWaitSeconds,
  expectedTeam,
  qualifiedCapacity,
  updateNumber,
} from '../domain/waiting.js';
import { Roster } from './db/roster.js';
import { LoadStore, type PendingAcceptance } from './load-store.js';
import { PresenceStore } from './presence.js';
import { RouterPublisher, type AssignedAgent, type Cause, type WaitInfo } from './publisher.js';

export const handoffsCounter = new Counter({
  name: 'router_handoffs_total',
  help: 'Handoffs routed: assigned at once, queued, or assigned from the queue',
  labelNames: ['outcome'],
});

/** How many waiting handoffs one pass looks at, and assigns at most. */
const QUEUE_SCAN = 200;
const MAX_ASSIGNMENTS_PER_PASS = 25;
/** A claim from the queue whose assignment was not confirmed published this long after is published again. */
const STALLED_CLAIM_MS = 30_000;
/** How long one replica has to publish an overdue assignment's timeout before another may. */
const TIMEOUT_LEASE_S = 30;

/**
 * The queue and who may take from it: serves waiting handoffs to agents with room (each claim
 * atomic, so replicas never take the same handoff or slot), tells waiting customers their place,
 * lets go of assignments not accepted in time, and says which agents are available now. Its
 * review runs every `reviewEverySeconds` of the routing policy, outside any log record; the log's
 * reactions (RouterService) call it inside theirs.
 */
@Injectable()
export class QueueServer implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The routing policy (routing/default.yaml or ROUTER_POLICY_FILE): the relaxation steps. */
  readonly policy: RoutingPolicy;
  private readonly defaultHandleSeconds: number;
  private review?: NodeJS.Timeout;
  private reviewing = false;

  constructor(
    @Inject(CONFIG) config: Config,
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

  onApplicationBootstrap(): void {
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
  }

  onApplicationShutdown(): void {
    if (this.review) clearInterval(this.review);
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

  /** Where a handoff stands in the queue now, for the customer. */
  async waitInfo(target: HandoffTarget, roster: AgentProfile[]): Promise<WaitInfo> {
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
   * Assigns waiting handoffs, highest priority and oldest first, while some
   * agent with capacity can take one. Claims are atomic, so replicas serving
   * the queue at the same time never take the same handoff or the same slot.
   */
  async serveQueue(trigger: Cause, mine?: string): Promise<number> {
    await this.recoverStalledClaims(trigger);
    let served = 0;
    for (let pass = 0; pass < MAX_ASSIGNMENTS_PER_PASS; pass++) {
      const waiting = await this.loads.waiting(QUEUE_SCAN, mine);
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

  async describe(agentId: string, roster?: AgentProfile[]): Promise<AssignedAgent> {
    const found =
      roster?.find((a) => a.id === agentId) ??
      (await this.roster.all()).find((a) => a.id === agentId);
    return found
      ? { id: found.id, name: found.name, team: found.team }
      : { id: agentId, name: agentId, team: '' };
  }
}
