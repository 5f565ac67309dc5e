import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import {
  CitationSchema,
  CollectedDetailSchema,
  ConfidenceBreakdownSchema,
  ReplyKind,
  create,
} from '@support/contracts';
import type { GivenVector } from '@support/encoder';
import { conversationEvent, isBotActive, isWithPerson } from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, type Applied } from '@support/stream';
import type { Config } from '../config.js';
import {
  conversationContext,
  formatContext,
  type ConversationContext,
} from '../domain/conversation-context.js';
import { responderProjection, type ResponderState } from '../domain/projection.js';
import { extractiveGenerator, type Generator, type Proposal } from '../domain/respond.js';
import { CLASSIFIER, type SupportClassifier } from './classifier.js';
import { KnowledgeBase } from './db/knowledge-base.js';
import { chatModelGenerator } from './llm.js';
import { draftsTotal, proposalConfidence, proposalsTotal } from './metrics.js';
import { proposeReply, warmUpLexicons } from './understand.js';

/** The person a draft is for, as the prompt names them: "Ada, Billing" ('' while the handoff waits for someone). */
function holderName(context: ConversationContext): string {
  const h = context.holder;
  if (!h) return '';
  return h.team ? `${h.name}, ${h.team}` : h.name;
}

const KINDS: Record<Proposal['kind'], ReplyKind> = {
  answer: ReplyKind.ANSWER,
  intake: ReplyKind.INTAKE,
  no_answer: ReplyKind.NO_ANSWER,
  smalltalk: ReplyKind.SMALLTALK,
};

/**
 * Proposes a reply to every new customer message the bot may answer: the
 * message is classified, the knowledge base searched, an answer written (by
 * the extractive answerer or the configured chat model) and weighed. The
 * escalation decider releases or withholds it; nothing goes to the customer
 * from here. While a person has or awaits the conversation the proposal is a
 * draft for them (flagged `draft_for_agent`, never released). What people
 * resolve feeds the knowledge base through the LearningService.
 */
@Injectable()
export class ResponderService implements OnApplicationBootstrap {
  private readonly generator: Generator;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
    private readonly kb: KnowledgeBase,
    @Inject(CLASSIFIER) private readonly classifier: SupportClassifier,
    private readonly logger: JsonLogger,
  ) {
    this.generator = chatModelGenerator(config) ?? extractiveGenerator;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.logger.log('answers written by', { generator: this.generator.name });
    this.logger.log('lexicons warmed up', { ms: Math.round(warmUpLexicons()) });
    await consumeConversationLog(this.bus, this.redis, {
      projection: responderProjection,
      react: (applied) => this.react(applied),
      // A proposal goes out in one Kafka transaction with the offset past its message: one whose
      // transaction did not commit is never seen, and the message is answered again, once.
      exactlyOnce: true,
    });
  }

  /**
   * The proposal for one message, given the conversation so far; used by the
   * log consumer and the preview API. While a person has or awaits the
   * conversation it is a draft for them (flagged `draft_for_agent`).
   */
  async propose(input: {
    messageId: string;
    text: string;
    locale: string;
    state?: ResponderState;
    /** The page the customer is on; by default the conversation's latest. */
    pageUrl?: string;
    /** The vector of `text` ingest embedded, if any. */
    vector?: GivenVector;
  }): Promise<Proposal> {
    const context = conversationContext(input.state, input.messageId);
    const draft = input.state !== undefined && isWithPerson(input.state);
    return proposeReply(
      { kb: this.kb, classifier: this.classifier, generator: this.generator },
      {
        messageId: input.messageId,
        text: input.text,
        locale: input.locale,
        known: (input.state?.details ?? []) as Proposal['collectedDetails'],
        askedBefore: context.askedBefore,
        earlier: context.customerTexts,
        conversation: formatContext(context),
        ...(draft ? { draftFor: holderName(context) } : {}),
        pageUrl: input.pageUrl ?? input.state?.pageUrl ?? '',
        vector: input.vector,
      },
      {
        topK: this.config.KB_TOP_K,
        defaultLocale: this.config.KB_DEFAULT_LOCALE,
        pageBoost: this.config.KB_PAGE_BOOST,
      },
    );
  }

  private async react(applied: Applied<ResponderState>): Promise<void> {
    const { event, after } = applied;
    if (event.payload.case !== 'customerMessageReceived') return;
    if (!isBotActive(after) && !isWithPerson(after)) return;
    await this.proposeFor(applied, event.payload.value);
  }

  private async proposeFor(
    { event, after, record }: Applied<ResponderState>,
    message: {
      messageId: string;
      text: string;
      locale: string;
      pageUrl: string;
      vector?: GivenVector;
    },
  ): Promise<void> {
    const { messageId, text, locale } = message;
    const conversationId = event.conversationId;
    const draft = isWithPerson(after);
    const context = { conversationId, messageId, correlationId: record.meta.correlationId, draft };
    const reply = await this.propose({
      messageId,
      text,
      locale: locale || after.locale,
      state: after,
      // The page this message was written on, else the conversation's latest.
      pageUrl: message.pageUrl || after.pageUrl,
      vector: message.vector,
    });
    const proposal = conversationEvent(
      conversationId,
      deterministicId('proposal', messageId),
      'aiReplyProposed',
      {
        messageId,
        replyId: deterministicId('reply', messageId),
        text: reply.text,
        confidence: reply.confidence,
        citations: reply.citations.map((c) => create(CitationSchema, c)),
        intent: reply.intent,
        articlesTried: reply.articlesTried,
        topic: reply.topic,
        intentProbability: reply.intentProbability,
        outOfScope: reply.outOfScope,
        urgency: reply.urgency,
        requiredSkills: reply.requiredSkills,
        kind: KINDS[reply.kind],
        collectedDetails: reply.collectedDetails.map((d) => create(CollectedDetailSchema, d)),
        missingDetails: reply.missingDetails,
        generator: reply.generator,
        confidenceBreakdown: create(ConfidenceBreakdownSchema, reply.evidence),
        flags: reply.flags,
      },
    );
    await this.bus.publish({
      topic: Topics.events,
      key: conversationId,
      value: proposal,
      eventId: proposal.eventId,
      correlationId: record.meta.correlationId,
      causationId: record.meta.eventId,
    });
    if (draft) {
      draftsTotal.inc({ kind: reply.kind, intent: reply.intent });
    } else {
      proposalsTotal.inc({ kind: reply.kind, intent: reply.intent });
      proposalConfidence.observe(reply.confidence);
    }
    this.logger.log(draft ? 'draft proposed for the agent' : 'reply proposed', {
      ...context,
      kind: reply.kind,
      confidence: reply.confidence,
      evidence: reply.evidence,
      intent: reply.intent,
      topic: reply.topic,
      generator: reply.generator,
      flags: reply.flags,
      articlesTried: reply.articlesTried,
    });
  }
}
