import { Counter } from 'prom-client';
import { fetchTopicEnds, Topics, withTimeout, type Bus } from '@support/bus';
import { type JsonLogger } from '@support/service-kit';
import { groupPositions, type Positions } from '@support/stream';
import type { DecisionContext } from '../domain/context.js';

/** How long a shutdown waits for the decisions of waits that ran out to finish. */
const STOP_WAIT_MS = 5_000;

/** The AI responder's log consumer group, whose position tells an outage from a lost answer. */
const AI_RESPONDER_LOG_GROUP = 'ai-responder.log';

const aiOutageWaits = new Counter({
  name: 'decider_ai_outage_waits_total',
  help: 'Timed-out waits for a proposal extended because the AI responder had not read as far as the message',
});

/** A customer message whose decision waits for the AI's proposal or the sentiment score. */
export interface Waiting {
  conversationId: string;
  messageId: string;
  /** Where the customer's message is in the log. */
  at: { partition: number; offset: string };
  /** When the wait began (ms). */
  since: number;
  trace: { correlationId: string; causationId: string };
  /**
   * The partition's end when the responder was first seen past the message: its proposal, if it
   * made one, lies below, and this replica decides once its own log consumer has read that far.
   */
  proposalBefore?: bigint;
}

/**
 * What the decider does when a wait runs out: decide on what has arrived. It
 * asks `aiResponder()` only when the proposal is what is missing; `done`
 * false asks to wait `waitMs` more.
 */
export type OnExpired = (
  waiting: Waiting,
  aiResponder: () => Promise<DecisionContext['aiResponder']>,
) => Promise<{ done: boolean; waitMs?: number; aiResponder?: DecisionContext['aiResponder'] }>;

/**
 * The join's timeouts: one timer per waiting message. When one runs out, the
 * decision is made on what has arrived, told where the AI responder stands
 * if the proposal is missing: while the responder has not read as far as the
 * message (it crashed, restarts or rebalances), the decision may wait on
 * (the policy's aiOutageWaitMs), and the timer is set again.
 */
export class JoinTimeouts {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private responderPositions?: { at: number; positions: Promise<Positions> };
  /** The decisions of waits that ran out, under way. */
  private readonly expiring = new Set<Promise<void>>();
  /** Set on shutdown: no timer is set again, not even by a decision still under way. */
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly logger: JsonLogger,
    private readonly onExpired: OnExpired,
  ) {}

  schedule(waiting: Waiting, ms: number): void {
    if (this.stopped) return;
    const { conversationId, messageId } = waiting;
    this.cancel(messageId);
    const timer = setTimeout(() => {
      this.timers.delete(messageId);
      if (this.stopped) return;
      const expiring = this.onExpired(waiting, () => this.aiResponderAt(waiting))
        .then(({ done, waitMs, aiResponder }) => {
          if (done || this.stopped) return;
          aiOutageWaits.inc();
          this.logger.warn('the AI responder has not read this far yet: the decision waits on', {
            conversationId,
            messageId,
            waitedMs: aiResponder?.waitedMs,
          });
          this.schedule(waiting, waitMs ?? ms);
        })
        .catch((err: Error) =>
          this.logger.error('timed-out decision failed', {
            conversationId,
            messageId,
            error: err.message,
          }),
        );
      this.expiring.add(expiring);
      void expiring.finally(() => this.expiring.delete(expiring));
    }, ms);
    timer.unref();
    this.timers.set(messageId, timer);
  }

  /** Whether a wait for the message runs here. */
  has(messageId: string): boolean {
    return this.timers.has(messageId);
  }

  /** The message was decided: its timer, if any, goes. */
  cancel(messageId: string): void {
    const timer = this.timers.get(messageId);
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(messageId);
  }

  /**
   * On shutdown: every timer goes, none is set again, and the decisions of waits that ran out
   * already are let finish (for at most STOP_WAIT_MS), before the bus and Redis close under them.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await withTimeout(Promise.allSettled([...this.expiring]), STOP_WAIT_MS).catch(() => undefined);
  }

  /**
   * Whether the AI responder's log consumer has read past the message (its committed offset on
   * the message's partition) and this replica's own log consumer past where the responder's
   * proposal would be, and how long the message has waited. Past the message but with this
   * replica behind (rejoining after a failover), or unknown (a group coordinator moving), counts
   * as behind: the decision waits on, within the policy's aiOutageWaitMs, rather than handing
   * an answered message to a person.
   */
  private async aiResponderAt(waiting: Waiting): Promise<DecisionContext['aiResponder']> {
    const waitedMs = Date.now() - waiting.since;
    if (this.stopped) return { position: 'past', waitedMs };
    try {
      const { partition, offset } = waiting.at;
      const next = (await this.positions()).get(partition) ?? 0n;
      if (next <= BigInt(offset)) return { position: 'behind', waitedMs };
      waiting.proposalBefore ??= await partitionEnd(this.bus, partition);
      const mine = (await groupPositions(this.bus, `${this.bus.service}.log`)).get(partition) ?? 0n;
      return { position: mine >= waiting.proposalBefore ? 'past' : 'behind', waitedMs };
    } catch (err) {
      this.logger.warn('the AI responder position is unknown; waiting on', {
        error: (err as Error).message,
      });
      return { position: 'behind', waitedMs };
    }
  }

  /** The AI responder's positions, read at most once a second however many waits run out. */
  private positions(): Promise<Positions> {
    const now = Date.now();
    if (!this.responderPositions || now - this.responderPositions.at > 1000)
      this.responderPositions = {
        at: now,
        positions: groupPositions(this.bus, AI_RESPONDER_LOG_GROUP),
      };
    const { positions } = this.responderPositions;
    // A failed read is not kept: the next wait asks again.
    positions.catch(() => (this.responderPositions = undefined));
    return positions;
  }
}

/** The next offset to be written on a partition of the conversation log. */
async function partitionEnd(bus: Bus, partition: number): Promise<bigint> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const ends = await fetchTopicEnds(admin, Topics.events.name);
    return BigInt(ends.find((o) => o.partition === partition)?.high ?? '0');
  } finally {
    await admin.disconnect();
  }
}
