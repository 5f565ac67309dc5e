import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus, Topics, deterministicId } from '@support/bus';
import { notice } from '@support/notices';
import {
  create,
  HandoffRequestSchema,
  OutboundKind,
  OutboundMessageSchema,
  type ConversationEvent,
} from '@support/contracts';
import {
  conversationEvent,
  evolve,
  findMessage,
  type ConversationState,
} from '@support/conversation';
import { JsonLogger, REDIS } from '@support/service-kit';
import {
  consumeConversationLog,
  isDone,
  KeyedMutex,
  logContains,
  onceChecked,
  type Applied,
  type SnapshotStore,
} from '@support/stream';
import { buildBriefing, type BriefingInit } from '../domain/briefing.js';
import { NO_CONTEXT, pagePath, type DecisionContext } from '../domain/context.js';
import { decide, type Decision } from '../domain/decide.js';
import { teamForSkills, type Policy } from '../domain/policy.js';
import { warmUpDecisions } from '../domain/warm-up.js';
import { AccountDirectory } from './accounts.js';
import { DirectoryVocabularyStore } from './directory.js';
import { HumanRequestDetection } from './human-request.js';
import { JoinTimeouts, type OnExpired, type Waiting } from './join-timeouts.js';
import { PolicyStore } from './policy-store.js';
import { ReviewPublisher, reviewEventIdFor } from './review-publisher.js';
import { BriefingSummarizer } from './summary.js';

const decisions = new Counter({
  name: 'decider_decisions_total',
  help: 'Decisions by kind and trigger',
  labelNames: ['kind', 'rule'],
});

@Injectable()
export class DeciderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private store!: SnapshotStore;
  private readonly mutex = new KeyedMutex();
  private readonly timeouts: JoinTimeouts;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly policies: PolicyStore,
    private readonly accounts: AccountDirectory,
    private readonly directory: DirectoryVocabularyStore,
    private readonly summarizer: BriefingSummarizer,
    private readonly humanRequests: HumanRequestDetection,
    private readonly logger: JsonLogger,
    private readonly reviews: ReviewPublisher,
  ) {
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
    this.store = await consumeConversationLog(this.bus, this.redis, {
      mutex: this.mutex,
      react: (a) => this.react(a),
      exactlyOnce: true,
    });
  }

  onApplicationShutdown(): void {
    this.timeouts.stop();
  }

  private async react({ event, after, record }: Applied): Promise<ConversationEvent[] | void> {
    const payload = event.payload;
    const trace = { correlationId: record.meta.correlationId, causationId: record.meta.eventId };
    const at = { partition: record.partition, offset: record.offset };
    switch (payload.case) {
      case 'customerMessageReceived': {
        const messageId = payload.value.messageId;
        const { done, published, waitMs } = await this.decideAndAct(
          after,
          messageId,
          false,
          trace,
          {
            at,
            inTransaction: true,
          },
        );
        if (!done)
          this.timeouts.schedule(
            { conversationId: after.conversationId, messageId, at, since: Date.now(), trace },
            waitMs ?? this.policies.current.joinTimeoutMs,
          );
        return published;
      }
      case 'aiReplyProposed':
      case 'messageScored': {
        const messageId = payload.value.messageId;
        const { done, published, waitMs } = await this.decideAndAct(
          after,
          messageId,
          false,
          trace,
          {
            at,
            inTransaction: true,
          },
        );
        if (!done && !this.timeouts.has(messageId))
          this.takeOverWait(after, messageId, at, trace, waitMs);
        return published;
      }
      default:
        return;
    }
  }

  /**
   * A wait this replica did not begin (the conversation moved here, or the process restarted,
   * after its message was read): taken over, as a new wait from now (as the message's own would
   * be), so that an input that never comes still ends in a decision. Its position is the
   * input's, later than the message's: the AI responder must be past it to count as past the
   * message (which it is, if it is).
   */
  private takeOverWait(
    state: ConversationState,
    messageId: string,
    at: Waiting['at'],
    trace: Waiting['trace'],
    waitMs?: number,
  ): void {
    this.timeouts.schedule(
      { conversationId: state.conversationId, messageId, at, since: Date.now(), trace },
      waitMs ?? this.policies.current.joinTimeoutMs,
    );
  }

  /**
   * A wait ran out: decide on what has arrived, as the log consumer's reaction
   * would (under the conversation's lock, what it appends counted at once).
   */
  private onJoinTimeout(
    waiting: Waiting,
    aiResponderAt: () => Promise<DecisionContext['aiResponder']>,
  ): ReturnType<OnExpired> {
    const { conversationId, messageId, trace } = waiting;
    return this.mutex.run(conversationId, async () => {
      // The partition moved to another replica since the wait began: that replica decides, on
      // the state it has folded (this one's copy may lack what arrived since).
      if (!this.store.owns(waiting.at.partition)) {
        this.logger.log('wait dropped: the conversation moved to another replica', {
          conversationId,
          messageId,
          partition: waiting.at.partition,
        });
        return { done: true };
      }
      const snapshot = await this.store.get(conversationId);
      if (!snapshot) return { done: true };
      const proposed = !!findMessage(snapshot.state, messageId)?.proposal;
      const aiResponder = proposed ? undefined : await aiResponderAt();
      const { done, published, waitMs } = await this.decideAndAct(
        snapshot.state,
        messageId,
        true,
        trace,
        { at: { partition: snapshot.partition, offset: snapshot.offset }, inTransaction: false },
        aiResponder,
      );
      if (published.length)
        await this.store.put({ ...snapshot, state: published.reduce(evolve, snapshot.state) });
      return { done, waitMs, aiResponder };
    });
  }

  /**
   * `done` when the message needs no further decision; `published`, the
   * conversation events this call appended (none when it waits, or when an
   * earlier attempt had already decided); `waitMs`, how long to wait at most
   * when the decision asked for less than the join's timeout.
   *
   * `inTransaction`: called by the log consumer's reaction, whose publishes go out in the
   * transaction of its record (exactly once, no marks needed). Otherwise (a wait that ran out, on
   * a timer) the decision is published at once, made once by a done mark and a pending mark
   * settled by a look in the log (onceChecked).
   */
  private async decideAndAct(
    state: ConversationState,
    messageId: string,
    timedOut: boolean,
    trace: { correlationId: string; causationId: string },
    { at, inTransaction }: { at: { partition: number; offset: string }; inTransaction: boolean },
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
    const key = `escalation-decider:decision:${messageId}`;
    const act = () => this.act(state, messageId, decision, trace, policy, context);
    if (inTransaction) {
      // A decision taken on a timer went out with a done mark: its events may still be on
      // their way through the log to this conversation's snapshot.
      if (await isDone(this.redis, key)) return { done: true, published: [] };
      return { done: true, published: await act() };
    }
    // The decision lands in the conversation's partition after `at`; a doubtful earlier
    // attempt (a crash between publishing and marking done) is settled by looking there.
    const check = {
      contains: (partition: number, afterOffset: string, eventIds: string[]) =>
        logContains(this.bus, partition, afterOffset, eventIds),
      partition: at.partition,
      afterOffset: at.offset,
      eventIds: [
        deterministicId('released', messageId),
        deterministicId('handoff-requested', messageId),
        reviewEventIdFor(messageId),
      ],
    };
    let published: ConversationEvent[] = [];
    await onceChecked(this.redis, key, check, async () => void (published = await act()));
    return { done: true, published };
  }

  private async act(
    state: ConversationState,
    messageId: string,
    decision: Exclude<Decision, { kind: 'none' | 'wait' }>,
    trace: { correlationId: string; causationId: string },
    policy: Policy,
    context: DecisionContext,
  ): Promise<ConversationEvent[]> {
    if (decision.kind === 'review')
      return this.reviews.publish(state, messageId, decision, trace, policy, context);
    const policyVersion = policy.version;
    const conversationId = state.conversationId;
    const message = findMessage(state, messageId)!;
    const to = {
      conversationId,
      channel: state.channel,
      externalConversationId: state.externalConversationId,
      customerId: state.customerId,
      inReplyTo: messageId,
      sentAt: new Date().toISOString(),
    };
    if (decision.kind === 'release') {
      const p = message.proposal!;
      const citations = p.citations;
      const released = conversationEvent(
        conversationId,
        deterministicId('released', messageId),
        'aiReplyReleased',
        {
          messageId,
          replyId: p.replyId,
          text: p.text,
          confidence: p.confidence,
          citations,
          policyVersion,
          missingInputs: decision.missing,
          context: {
            account: context.account,
            accountLookup: context.accountLookup,
            page: {
              url: context.pageUrl,
              path: pagePath(context.pageUrl),
              area: policy.pageArea(pagePath(context.pageUrl)),
            },
          },
        },
      );
      await this.bus.publish(
        {
          topic: Topics.outbound,
          key: conversationId,
          value: create(OutboundMessageSchema, {
            ...to,
            messageId: deterministicId('outbound-reply', messageId),
            kind: OutboundKind.AI_REPLY,
            text: p.text,
            citations,
            author: 'AI assistant',
          }),
          eventId: deterministicId('outbound-reply', messageId),
          ...trace,
        },
        {
          topic: Topics.events,
          key: conversationId,
          value: released,
          eventId: released.eventId,
          ...trace,
        },
      );
      decisions.inc({ kind: 'release', rule: '' });
      this.logger.log('AI reply released', {
        conversationId,
        messageId,
        confidence: p.confidence,
        missing: decision.missing,
        ...trace,
      });
      return [released];
    }
    const handoffId = deterministicId('handoff', messageId);
    // The team a rule names, else the one whose skills cover the handoff's (the directory's vocabulary).
    const handoff = {
      ...decision,
      team: decision.team || teamForSkills(decision.requiredSkills, this.directory.current),
    };
    const briefing = buildBriefing(state, messageId, handoff, context, policy);
    const triggers = decision.triggers;
    const requested = conversationEvent(
      conversationId,
      deterministicId('handoff-requested', messageId),
      'handoffRequested',
      {
        handoffId,
        messageId,
        triggers,
        priority: decision.priority,
        requiredSkills: decision.requiredSkills,
        language: decision.language,
        team: handoff.team,
        policyVersion,
        briefing,
        priorityReasons: decision.priorityReasons,
        missingInputs: decision.missing,
      },
    );
    await this.bus.publish(
      {
        topic: Topics.outbound,
        key: conversationId,
        value: create(OutboundMessageSchema, {
          ...to,
          messageId: deterministicId('outbound-handoff', messageId),
          kind: OutboundKind.SYSTEM,
          text: notice('handoff', decision.language),
          author: 'system',
        }),
        eventId: deterministicId('outbound-handoff', messageId),
        ...trace,
      },
      {
        topic: Topics.handoffRequests,
        key: conversationId,
        value: create(HandoffRequestSchema, {
          handoffId,
          conversationId,
          priority: decision.priority,
          requiredSkills: decision.requiredSkills,
          language: decision.language,
          triggers,
          briefing,
          requestedAt: requested.occurredAt,
          revision: 1,
          priorityReasons: decision.priorityReasons,
          team: handoff.team,
          triggerMessageId: messageId,
        }),
        eventId: handoffId,
        ...trace,
      },
      {
        topic: Topics.events,
        key: conversationId,
        value: requested,
        eventId: requested.eventId,
        ...trace,
      },
    );
    for (const t of triggers) decisions.inc({ kind: 'handoff', rule: t.rule });
    this.logger.log('handed off', {
      conversationId,
      messageId,
      handoffId,
      team: handoff.team,
      triggers: triggers.map((t) => t.rule),
      priorityReasons: decision.priorityReasons.map((t) => t.rule),
      missing: decision.missing,
      ...trace,
    });
    if (this.summarizer.generator)
      void this.summarizeLater(state, handoffId, requested, briefing, trace);
    return [requested];
  }

  /**
   * After the handoff is out: the chat model writes the summary, which goes
   * into the log (BriefingSummarized) and to desks as revision 2 of the
   * handoff. If the model fails, the extractive summary stands.
   */
  private async summarizeLater(
    state: ConversationState,
    handoffId: string,
    requested: ConversationEvent,
    briefing: BriefingInit,
    trace: { correlationId: string; causationId: string },
  ): Promise<void> {
    const conversationId = state.conversationId;
    const generator = this.summarizer.generator!;
    let summary: string | undefined;
    try {
      summary = await this.summarizer.summarize(briefing);
    } catch (err) {
      this.logger.warn('briefing summary by the chat model failed; the extractive one stands', {
        conversationId,
        handoffId,
        error: (err as Error).message,
      });
      return;
    }
    if (!summary) return;
    const summarized = conversationEvent(
      conversationId,
      deterministicId('briefing-summarized', handoffId),
      'briefingSummarized',
      { handoffId, summary, generator },
    );
    const h = requested.payload.case === 'handoffRequested' ? requested.payload.value : undefined;
    try {
      await this.bus.publish(
        {
          topic: Topics.handoffRequests,
          key: conversationId,
          value: create(HandoffRequestSchema, {
            handoffId,
            conversationId,
            priority: h?.priority,
            requiredSkills: h?.requiredSkills,
            language: h?.language,
            triggers: h?.triggers,
            priorityReasons: h?.priorityReasons,
            briefing: { ...briefing, summary, summaryGenerator: generator },
            requestedAt: requested.occurredAt,
            revision: 2,
            team: h?.team,
            triggerMessageId: h?.messageId,
          }),
          eventId: deterministicId('handoff-revision-2', handoffId),
          ...trace,
        },
        {
          topic: Topics.events,
          key: conversationId,
          value: summarized,
          eventId: summarized.eventId,
          ...trace,
        },
      );
      this.logger.log('briefing summarized', { conversationId, handoffId, generator, ...trace });
    } catch (err) {
      this.logger.error('could not publish the briefing summary', {
        conversationId,
        handoffId,
        error: (err as Error).message,
      });
    }
  }
}
