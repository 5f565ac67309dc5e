import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { isResolved, lifecycleProjection, type ConversationLifecycle } from '@support/conversation';
import { JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, type Applied } from '@support/stream';
import { handoffTarget } from '../domain/handoff.js';
import { lifecycleStep } from '../domain/lifecycle.js';
import type { RoutingPolicy } from '../domain/routing-policy.js';
import { contactIn } from '../domain/waiting.js';
import { AssignmentFollower } from './assignment-follower.js';
import { HandoffRouting } from './handoff-routing.js';
import { restoreHotState } from './hot-state.js';
import { LoadStore } from './load-store.js';
import { RouterPublisher, type Cause } from './publisher.js';
import { QueueServer } from './queue-server.js';
import { Releases } from './releases.js';

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
    private readonly loads: LoadStore,
    private readonly queue: QueueServer,
    private readonly publisher: RouterPublisher,
    private readonly routing: HandoffRouting,
    private readonly releases: Releases,
    private readonly follower: AssignmentFollower,
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
      if (target?.handoffId === handoffId) await this.routing.route(target, cause);
    } else if (payload.case === 'conversationResolved') {
      await this.releases.resolved(before, cause);
      await this.releases.recordHandleTime(before, event.occurredAt);
    } else if (payload.case === 'customerMessageReceived') {
      return this.collectFollowUpContact(after, payload.value.messageId, payload.value.text, cause);
    } else {
      const step = lifecycleStep(event, before, after, this.policy);
      if (step)
        await this.follower.follow(step, { before, after, occurredAt: event.occurredAt, cause });
    }
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
}
