import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus, InvalidRecordError, Topics, type Incoming, type Outgoing } from '@support/bus';
import type {
  ConversationEvent,
  DescMessage,
  DeskAction,
  DeskActionSchema,
} from '@support/contracts';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import {
  isDone,
  logContains,
  once,
  onceChecked,
  SnapshotStore,
  type Snapshot,
} from '@support/stream';
import type { Config } from '../config.js';
import {
  decideDeskAction,
  describeIssues,
  validateDeskAction,
  type DeskDecision,
  type Rejection,
} from '../domain/desk-actions.js';

const actionsTotal = new Counter({
  name: 'ingest_desk_actions_total',
  help: 'Desk actions by action and outcome: appended to the log, duplicate (appended before) or rejected (dead-lettered)',
  labelNames: ['action', 'outcome'],
});

/** The once-key of appending one desk action to the log. */
const actionKey = (actionId: string) => `ingest:desk-action:${actionId}`;

/** How long this process folds its own appended events over a snapshot that has not applied them yet. */
const OWN_EVENTS_TTL_MS = 5 * 60_000;
const OWN_EVENTS_MAX_CONVERSATIONS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * desk.actions -> the conversation log. Each action is checked against the
 * conversation as ingest's snapshot has it (see decideDeskAction) and appends
 * one event, once per action id; an action that does not fit goes to
 * desk.actions.dlq with the field and the rule it broke. Exactly once: the
 * action's records and the offset past it commit in one Kafka transaction; a
 * second record of the same action id finds the done mark (set once the
 * transaction committed) or, after a crash in between, its events in the log
 * (onceChecked).
 *
 * Two things keep the check honest although the snapshot is fed by another
 * consumer (the log's) than this one:
 * - the events this process appended are folded over the snapshot until it
 *   has applied them, so that a quick next action of the same conversation
 *   (a reply after a hand back) is judged knowing them;
 * - an action naming a conversation, handoff or assignment the snapshot does
 *   not know yet is checked again, with growing pauses, for up to
 *   DESK_CATCH_UP_MS before it is dead-lettered: the desk saw the assignment
 *   on handoff.assignments, and the AgentAssigned the router wrote beside it
 *   may not have reached the snapshot yet.
 */
@Injectable()
export class DeskActionsConsumer implements OnApplicationBootstrap {
  private readonly ownEvents = new Map<string, { events: ConversationEvent[]; at: number }>();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly store: SnapshotStore,
    private readonly logger: JsonLogger,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'desk-actions',
      topic: Topics.deskActions,
      // An action's records (its log events and the reply to the customer) go out in one
      // transaction with the offset past it: all or none, and a failed attempt publishes nothing.
      exactlyOnce: true,
      // What this process appended for records another member may now hold (a transaction the
      // rebalance dropped) must not make their next handling look like a repeat.
      onAssignment: () => this.ownEvents.clear(),
      // What no state can fix (a blank id, an empty reply, no action) is dead-lettered before the handler.
      validate: (action) => {
        const issues = validateDeskAction(action);
        if (!issues.length) return undefined;
        this.count(action, 'rejected');
        this.logger.warn('desk action rejected', {
          ...this.context(action),
          reason: describeIssues(issues),
        });
        return describeIssues(issues);
      },
      handle: (record) => this.handle(record),
    });
  }

  private context(action: DeskAction, correlationId?: string) {
    return {
      conversationId: action.conversationId,
      correlationId,
      actionId: action.actionId,
      action: action.action.case ?? 'none',
      handoffId: action.handoffId,
      agentId: action.agentId,
    };
  }

  private count(action: DeskAction, outcome: 'appended' | 'duplicate' | 'rejected'): void {
    actionsTotal.inc({ action: action.action.case ?? 'none', outcome });
  }

  private async handle(record: Incoming<typeof DeskActionSchema>): Promise<void> {
    const action = record.value;
    const context = this.context(action, record.meta.correlationId);
    if (record.key !== action.conversationId) {
      throw this.reject(action, context, {
        field: 'key',
        rule: 'conversation_key',
        message: `the record key must be the conversation id, so that a conversation's actions keep their order (was "${record.key}")`,
        mayCatchUp: false,
      });
    }
    const key = actionKey(action.actionId);
    if (await isDone(this.redis, key)) {
      this.count(action, 'duplicate');
      this.logger.log('duplicate desk action dropped', context);
      return;
    }
    const { decision, snapshot, waitedMs } = await this.decide(action, record.meta.correlationId);
    if (decision.kind === 'reject')
      throw this.reject(action, { ...context, waitedMs }, decision.rejection);
    if (decision.kind === 'duplicate') {
      // Appended before, but not marked done (the process stopped in between): mark it now.
      await once(this.redis, key, async () => undefined);
      this.count(action, 'duplicate');
      this.logger.log('duplicate desk action dropped', { ...context, eventId: decision.eventId });
      return;
    }
    const { event, outbound } = decision;
    const events = [event, ...(decision.followUps ?? [])];
    const trace = { correlationId: record.meta.correlationId, causationId: record.meta.eventId };
    const records: Outgoing<DescMessage>[] = [];
    if (outbound) {
      records.push({
        topic: Topics.outbound,
        key: action.conversationId,
        value: outbound,
        eventId: outbound.messageId,
        ...trace,
      });
    }
    for (const e of events) {
      records.push({
        topic: Topics.events,
        key: action.conversationId,
        value: e,
        eventId: e.eventId,
        ...trace,
      });
    }
    const publish = async () => {
      await this.bus.publish(...records);
      for (const e of events) this.remember(e);
    };
    // The event lands in the conversation's partition after the snapshot's offset: a doubtful
    // earlier attempt (stopped between publishing and marking done) is settled by looking there.
    const appended = snapshot
      ? await onceChecked(
          this.redis,
          key,
          {
            contains: (partition, afterOffset, eventIds) =>
              logContains(this.bus, partition, afterOffset, eventIds),
            partition: snapshot.partition,
            afterOffset: snapshot.offset,
            eventIds: events.map((e) => e.eventId),
          },
          publish,
        )
      : await once(this.redis, key, publish);
    this.count(action, appended ? 'appended' : 'duplicate');
    this.logger.log(appended ? 'desk action appended' : 'duplicate desk action dropped', {
      ...context,
      eventId: event.eventId,
      eventType: event.payload.case,
      ...(outbound ? { messageId: outbound.messageId } : {}),
      ...(waitedMs ? { waitedMs } : {}),
    });
  }

  private reject(
    action: DeskAction,
    context: Record<string, unknown>,
    rejection: Rejection,
  ): InvalidRecordError {
    const reason = `rejected ${Topics.deskActions.schema.typeName}: ${describeIssues([rejection])}`;
    this.count(action, 'rejected');
    this.logger.warn('desk action rejected', { ...context, field: rejection.field, reason });
    return new InvalidRecordError(reason);
  }

  /**
   * The decision on the conversation as the snapshot has it (with this
   * process's own recent events), checked again while it may only be behind.
   */
  private async decide(
    action: DeskAction,
    correlationId: string,
  ): Promise<{ decision: DeskDecision; snapshot?: Snapshot; waitedMs: number }> {
    const budget = this.config.DESK_CATCH_UP_MS;
    let waitedMs = 0;
    let pause = 50;
    for (;;) {
      const snapshot = await this.store.get(action.conversationId);
      const state = this.withOwnEvents(snapshot?.state ?? initialState(action.conversationId));
      const decision = decideDeskAction(action, state, new Date().toISOString());
      if (decision.kind !== 'reject' || !decision.rejection.mayCatchUp || waitedMs >= budget)
        return { decision, snapshot, waitedMs };
      if (waitedMs === 0) {
        this.logger.log('desk action waits for the log to catch up', {
          ...this.context(action, correlationId),
          field: decision.rejection.field,
          rule: decision.rejection.rule,
          budgetMs: budget,
        });
      }
      const step = Math.min(pause, budget - waitedMs);
      await sleep(step);
      waitedMs += step;
      pause = Math.min(pause * 2, 1_000);
    }
  }

  /** The state with the events this process appended and the snapshot has not applied yet. */
  private withOwnEvents(state: ConversationState): ConversationState {
    const id = state.conversationId;
    const own = this.ownEvents.get(id);
    if (!own) return state;
    const pending = own.events.filter((e) => !state.appliedEventIds.includes(e.eventId));
    if (pending.length === 0 || Date.now() - own.at > OWN_EVENTS_TTL_MS) {
      this.ownEvents.delete(id);
      return state;
    }
    if (pending.length < own.events.length) own.events = pending;
    return pending.reduce(evolve, state);
  }

  private remember(event: ConversationEvent): void {
    const id = event.conversationId;
    const events = [...(this.ownEvents.get(id)?.events ?? []), event];
    // Most recently appended last, so that the oldest go first.
    this.ownEvents.delete(id);
    this.ownEvents.set(id, { events, at: Date.now() });
    for (const [oldest, entry] of this.ownEvents) {
      if (
        this.ownEvents.size <= OWN_EVENTS_MAX_CONVERSATIONS &&
        Date.now() - entry.at <= OWN_EVENTS_TTL_MS
      )
        break;
      this.ownEvents.delete(oldest);
    }
  }
}
