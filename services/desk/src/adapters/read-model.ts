import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import {
  AssignmentStatus,
  HandoffRequestSchema,
  toJson,
  type AgentAssignment,
  type HandoffRequest,
} from '@support/contracts';
import type { ConversationState } from '@support/conversation';
import { JsonLogger, REDIS } from '@support/service-kit';
import {
  consumeConversationLog,
  consumeRestorable,
  type Applied,
  type SnapshotStore,
} from '@support/stream';
import { refusal, type ActionInput } from '../domain/actions.js';
import { isOpenHandoff, type AssignmentInfo } from '../domain/queue.js';

/** What every desk replica tells its open browsers: something changed in this conversation. */
export interface DeskUpdate {
  conversationId: string;
  handoffId: string;
  /** The event or record type, e.g. agentAssigned, briefing, assignment. */
  kind: string;
  /** Agents the change concerns (the holder, before and after), for notifications. */
  agentIds: string[];
}

export const OPEN = 'desk:open';
const UPDATES = 'desk:updates';
const briefingKey = (handoffId: string) => `desk:briefing:${handoffId}`;
const assignmentKey = (handoffId: string) => `desk:assignment:${handoffId}`;
const KEEP_S = 30 * 24 * 3600;

const STATUS: Record<AssignmentStatus, AssignmentInfo['status']> = {
  [AssignmentStatus.UNSPECIFIED]: 'unspecified',
  [AssignmentStatus.ASSIGNED]: 'assigned',
  [AssignmentStatus.ACCEPTED]: 'accepted',
  [AssignmentStatus.RELEASED]: 'released',
};

/**
 * The desk's read model: the conversation log folded into snapshots (its own
 * consumer group), the set of conversations a person has or awaits, the
 * latest briefing per handoff (handoff.requests, highest revision) and the
 * router's latest word on each assignment (handoff.assignments). Changes are
 * announced over Redis pub/sub so that every replica's browsers hear them,
 * whichever replica consumed the record.
 */
@Injectable()
export class DeskReadModel implements OnApplicationBootstrap, OnApplicationShutdown {
  private store?: SnapshotStore;
  private subscriber?: Redis;
  private readonly listeners = new Set<(u: DeskUpdate) => void>();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, payload: string) => {
      const update = JSON.parse(payload) as DeskUpdate;
      for (const listener of this.listeners) listener(update);
    });
    await this.subscriber.subscribe(UPDATES);
    const log = await consumeConversationLog(this.bus, this.redis, {
      react: (applied) => this.react(applied),
      // Snapshots Redis lost come back from the log, and the set of open handoffs with them.
      onRestored: async (snapshots) => {
        const open = snapshots.filter((s) => isOpenHandoff(s.state));
        if (open.length) await this.redis.sadd(OPEN, ...open.map((s) => s.state.conversationId));
      },
    });
    this.store = log.store;
    // Briefings and assignments are copies of their topics in Redis: lost, they come back by
    // themselves from the topics (libs/stream restorable.ts), without announcements.
    await consumeRestorable(this.bus, this.redis, {
      group: 'briefings',
      topic: Topics.handoffRequests,
      restore: async (value) => void (await this.keepBriefing(value)),
      validate: (r) =>
        !r.handoffId
          ? 'handoff_id is required'
          : !r.conversationId
            ? 'conversation_id is required'
            : undefined,
      handle: async ({ value }) => {
        if (await this.keepBriefing(value))
          await this.announce({
            conversationId: value.conversationId,
            handoffId: value.handoffId,
            kind: 'briefing',
            agentIds: [],
          });
      },
    });
    await consumeRestorable(this.bus, this.redis, {
      group: 'assignments',
      topic: Topics.handoffAssignments,
      restore: (value) => this.keepAssignment(value),
      validate: (r) => (!r.handoffId ? 'handoff_id is required' : undefined),
      handle: async ({ value }) => {
        await this.keepAssignment(value);
        await this.announce({
          conversationId: value.conversationId,
          handoffId: value.handoffId,
          kind: 'assignment',
          agentIds: [value.agentId],
        });
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** Listens to every change any replica announces; returns the unsubscribe. */
  listen(listener: (u: DeskUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async state(conversationId: string): Promise<ConversationState> {
    if (!this.store) throw new Error('the desk read model has not started');
    return this.store.state(conversationId);
  }

  /**
   * Why the agent cannot act (a sentence for a 409), or undefined. When the
   * desk's view may only be behind the log (e.g. the assignment an agent
   * accepts has not reached it yet), it looks again for up to `waitMs`.
   */
  async refusal(
    conversationId: string,
    agentId: string,
    input: ActionInput,
    waitMs: number,
  ): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
      const found = refusal(await this.state(conversationId), agentId, input);
      if (!found || !found.mayCatchUp || Date.now() + pause > deadline) return found?.message;
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Every conversation a person has or awaits now. */
  async open(): Promise<ConversationState[]> {
    const ids = await this.redis.smembers(OPEN);
    const states = await Promise.all(ids.map((id) => this.state(id)));
    return states.filter(isOpenHandoff);
  }

  /** The briefing of a handoff (its highest revision), as protobuf JSON. */
  async briefing(handoffId: string): Promise<Record<string, unknown> | undefined> {
    const raw = await this.redis.get(briefingKey(handoffId));
    return raw ? (JSON.parse(raw) as { json: Record<string, unknown> }).json : undefined;
  }

  async assignment(handoffId: string): Promise<AssignmentInfo | undefined> {
    const raw = await this.redis.get(assignmentKey(handoffId));
    return raw ? (JSON.parse(raw) as AssignmentInfo) : undefined;
  }

  private async react({ event, before, after }: Applied): Promise<void> {
    const handoffId = after.handoff?.handoffId ?? '';
    if (!handoffId && !before.handoff) return;
    if (isOpenHandoff(after)) await this.redis.sadd(OPEN, after.conversationId);
    else await this.redis.srem(OPEN, after.conversationId);
    const agentIds = [
      ...new Set([before.handoff?.agent?.agentId, after.handoff?.agent?.agentId]),
    ].filter((id): id is string => !!id);
    await this.announce({
      conversationId: after.conversationId,
      handoffId,
      kind: event.payload.case ?? 'unknown',
      agentIds,
    });
  }

  /** Keeps the highest revision of a handoff's briefing; false when this one is older. */
  private async keepBriefing(request: HandoffRequest): Promise<boolean> {
    const key = briefingKey(request.handoffId);
    const current = await this.redis.get(key);
    if (current && (JSON.parse(current) as { revision: number }).revision > request.revision)
      return false;
    const json = toJson(HandoffRequestSchema, request) as Record<string, unknown>;
    await this.redis.set(key, JSON.stringify({ revision: request.revision, json }), 'EX', KEEP_S);
    return true;
  }

  private async keepAssignment(a: AgentAssignment): Promise<void> {
    const info: AssignmentInfo = {
      agentId: a.agentId,
      status: STATUS[a.status] ?? 'unspecified',
      acceptBy: a.acceptBy,
    };
    await this.redis.set(assignmentKey(a.handoffId), JSON.stringify(info), 'EX', KEEP_S);
  }

  private async announce(update: DeskUpdate): Promise<void> {
    await this.redis.publish(UPDATES, JSON.stringify(update)).catch((err: Error) =>
      this.logger.warn('could not announce a desk update', {
        error: err.message,
        conversationId: update.conversationId,
      }),
    );
  }
}
