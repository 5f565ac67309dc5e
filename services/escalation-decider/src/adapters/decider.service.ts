import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { afterTransaction, Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { evolve, findMessage, type ConversationState } from '@support/conversation';
import { JsonLogger, REDIS } from '@support/service-kit';
import {
  consumeConversationLog,
  foldedAtOnce,
  KeyedMutex,
  type Applied,
  type ConversationLog,
  type Snapshot,
} from '@support/stream';
import { NO_CONTEXT, type DecisionContext } from '../domain/context.js';
import { awaitingDecision, decide } from '../domain/decide.js';
import { warmUpDecisions } from '../domain/warm-up.js';
import { AccountDirectory } from './accounts.js';
import { DirectoryVocabularyStore } from './directory.js';
import { HumanRequestDetection } from './human-request.js';
import { DecisionActions } from './decision-actions.js';
import { JoinTimeouts, type OnExpired, type Waiting } from './join-timeouts.js';
import { PolicyStore } from './policy-store.js';
import { WaitRegistry } from './wait-registry.js';
import { ReviewPublisher } from './review-publisher.js';
import { BriefingSummarizer } from './summary.js';

@Injectable()
export class DeciderService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private log!: ConversationLog;
  private readonly mutex = new KeyedMutex();
  private readonly timeouts: JoinTimeouts;
  private readonly actions: DecisionActions;
  private readonly waits: WaitRegistry;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly policies: PolicyStore,
    private readonly accounts: AccountDirectory,
    directory: DirectoryVocabularyStore,
    summarizer: BriefingSummarizer,
    private readonly humanRequests: HumanRequestDetection,
    private readonly logger: JsonLogger,
    reviews: ReviewPublisher,
  ) {
    this.actions = new DecisionActions(bus, logger, reviews, directory, summarizer);
    this.waits = new WaitRegistry(redis, bus.service);
    this.timeouts = new JoinTimeouts(bus, logger, (waiting, aiResponder) =>
      this.onJoinTimeout(waiting, aiResponder),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    // Nothing is decided before this replica has read policy.versions to its end: an activation
    // acknowledged before it started must not be decided past with an older policy.
    await this.policies.ready();
    const warmUpMs = await warmUpDecisions(this.policies.current, {
      ...NO_CONTEXT,
      detectHumanRequest: this.humanRequests.detect,
    });
    this.logger.log('decisions warmed up', { ms: Math.round(warmUpMs) });
    // Exactly-once: a decision and everything it publishes (the customer's reply or notice, the
    // handoff, the log events) go out in one transaction with the offset of the record that
    // caused it; a decision whose transaction did not commit is taken again, once.
    this.log = await consumeConversationLog(this.bus, this.redis, {
      mutex: this.mutex,
      react: (a) => this.react(a),
      exactlyOnce: true,
      onRestored: (snapshots) => this.resumeWaits(snapshots),
      onCaughtUp: (partition) => this.takeUpWaits(partition),
    });
  }

  /** Before the bus closes: decisions of waits that ran out finish, and go out with its last commit. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.timeouts.stop();
  }

  private async react({ event, after, record }: Applied): Promise<ConversationEvent[] | void> {
    const payload = event.payload;
    const trace = { correlationId: record.meta.correlationId, causationId: record.meta.eventId };
    const at = { partition: record.partition, offset: record.offset };
    switch (payload.case) {
      case 'customerMessageReceived':
      case 'aiReplyProposed':
      case 'messageScored': {
        const messageId = payload.value.messageId;
        const { done, published, waitMs } = await this.decideAndAct(after, messageId, false, trace);
        // The message's wait begins here; a proposal or score that finds it undecided and no wait
        // in this process (the conversation moved here, or the process restarted, after the
        // message was read) takes the wait over, so that an input that never comes still ends in
        // a decision. Its position is then the input's, later than the message's: the AI responder
        // must be past it to count as past the message (which it is, if it is).
        if (!done && !this.timeouts.has(messageId)) {
          const waiting = {
            conversationId: after.conversationId,
            messageId,
            at,
            since: Date.now(),
            trace,
          };
          await this.waits.add(waiting);
          this.timeouts.schedule(waiting, waitMs ?? this.policies.current.joinTimeoutMs);
        }
        if (published.length)
          await afterTransaction(() => this.waits.remove(record.partition, messageId));
        return published;
      }
      default:
        return;
    }
  }

  /**
   * A partition caught up here (assigned to this replica, or this process restarted): the waits
   * left on it run here now, each for what remains of its join's timeout, so that a message whose
   * inputs never come is still decided when none of them reaches this process.
   */
  private async takeUpWaits(partition: number): Promise<void> {
    const left = this.runHere(await this.waits.on(partition));
    if (left.length) this.logger.log('waits taken up', { partition, waits: left.length });
  }

  /** Runs each wait not running here already, for what remains of its join's timeout. */
  private runHere(waits: Waiting[]): Waiting[] {
    const joinMs = this.policies.current.joinTimeoutMs;
    const left = waits.filter((w) => !this.timeouts.has(w.messageId));
    for (const w of left) this.timeouts.schedule(w, Math.max(0, w.since + joinMs - Date.now()));
    return left;
  }

  /**
   * Snapshots restored from the log (Redis lost them, or a partition was caught up from its
   * checkpoint): each message in them still waiting for its decision is a wait, registered again
   * where the registry lacks it (it may have gone with the snapshots) and run here unless it runs
   * already. One the registry lacks runs a whole join's timeout from now, not from the message:
   * its decision may be in the log past the restored records, committed but not yet read (a
   * restore folds only up to the record in hand), and is then found before the wait runs out.
   * Its trace is the message's id (the ingest's correlation id is not in the snapshot).
   */
  private async resumeWaits(snapshots: Snapshot[]): Promise<void> {
    const found: Waiting[] = snapshots.flatMap(({ state, partition, offset }) =>
      awaitingDecision(state).map((m) => ({
        conversationId: state.conversationId,
        messageId: m.messageId,
        at: { partition, offset },
        since: Date.now(),
        trace: { correlationId: m.messageId, causationId: m.messageId },
      })),
    );
    if (!found.length) return;
    const resumed = this.runHere(await this.waits.restore(found));
    this.logger.log('waits found in restored snapshots', {
      waits: found.length,
      resumed: resumed.length,
    });
  }

  /**
   * A wait ran out: decide on what has arrived, as the log consumer's reaction
   * would (under the conversation's lock, what it appends counted at once).
   *
   * Exactly once, like a reaction: the decision is a punctuation of the conversation's partition
   * (libs/bus ConsumerHandle.punctuate). What it publishes goes out in the partition's next
   * transaction, with offsets past the conversation's last record, fenced by the group's
   * generation; the snapshot that holds it goes to Redis only once that has committed.
   */
  private onJoinTimeout(
    waiting: Waiting,
    aiResponderAt: () => Promise<DecisionContext['aiResponder']>,
  ): ReturnType<OnExpired> {
    const { conversationId, messageId, trace } = waiting;
    return this.mutex.run(conversationId, async () => {
      const { store, punctuate } = this.log;
      // The partition moved to another replica since the wait began: that replica decides, on
      // the state it has folded (this one's copy may lack what arrived since).
      if (!store.owns(waiting.at.partition)) {
        this.logger.log('wait dropped: the conversation moved to another replica', {
          conversationId,
          messageId,
          partition: waiting.at.partition,
        });
        return { done: true };
      }
      const snapshot = await store.get(conversationId);
      if (!snapshot) return { done: true };
      const proposed = !!findMessage(snapshot.state, messageId)?.proposal;
      const aiResponder = proposed ? undefined : await aiResponderAt();
      return punctuate(snapshot.partition, BigInt(snapshot.offset), async () => {
        const decided = await this.decideAndAct(
          snapshot.state,
          messageId,
          true,
          trace,
          aiResponder,
        );
        if (decided.published.length) {
          const state = decided.published.reduce(evolve, snapshot.state);
          await store.putUnsettled({ ...snapshot, state });
          foldedAtOnce(store, decided.published);
          await afterTransaction(async () => {
            store.settle(conversationId);
            await this.waits.remove(snapshot.partition, messageId);
          });
        } else if (decided.done) await this.waits.remove(snapshot.partition, messageId);
        return { done: decided.done, waitMs: decided.waitMs, aiResponder };
      });
    });
  }

  /**
   * `done` when the message needs no further decision; `published`, the
   * conversation events this call appended (none when it waits, or when it
   * was decided already); `waitMs`, how long to wait at most when the
   * decision asked for less than the join's timeout. What it publishes is held for the
   * transaction of the record (a reaction) or of the punctuation (a wait that ran out).
   */
  private async decideAndAct(
    state: ConversationState,
    messageId: string,
    timedOut: boolean,
    trace: { correlationId: string; causationId: string },
    aiResponder?: DecisionContext['aiResponder'],
  ): Promise<{ done: boolean; published: ConversationEvent[]; waitMs?: number }> {
    const policy = this.policies.current;
    const { account, lookup } = await this.accounts.get(state.accountId);
    const context: DecisionContext = {
      account,
      accountLookup: lookup,
      pageUrl: state.pageUrl,
      detectHumanRequest: this.humanRequests.detect,
      aiResponder,
    };
    const decision = await decide(state, messageId, policy, timedOut, context);
    if (decision.kind === 'wait') return { done: false, published: [], waitMs: decision.forMs };
    this.timeouts.cancel(messageId);
    if (decision.kind === 'none') return { done: true, published: [] };
    const published = await this.actions.act(state, messageId, decision, trace, policy, context);
    return { done: true, published };
  }
}
