/**
 * The topic catalogue: every topic the system uses, its key, partitions,
 * retention, message schema and dead-letter topic. Topics are created from
 * this list, idempotently, when a service starts.
 */
import {
  AccountSchema,
  AgentAssignmentSchema,
  AgentPresenceSchema,
  AuditRecordSchema,
  ConversationEventSchema,
  DeadLetterSchema,
  DeskActionSchema,
  DirectoryVocabularySchema,
  HandoffRequestSchema,
  InboundMessageSchema,
  InsightAlertSchema,
  KnowledgeEventSchema,
  KnowledgeReviewSchema,
  OutboundMessageSchema,
  PolicyRecordSchema,
  type DescMessage,
  CrashMarkSchema,
} from '@support/contracts';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from './size.js';

export interface TopicSpec<Desc extends DescMessage = DescMessage> {
  name: string;
  /** What the record key is. */
  key: string;
  partitions: number;
  /** -1 keeps records forever. */
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
  /**
   * The topic's max.message.bytes, set when the topic is created: the most a
   * record batch (one partition's share of a produce request) may take. The
   * bus splits requests by it and refuses a record that can never fit.
   * Default: Kafka's message.max.bytes default, 1048588.
   */
  maxMessageBytes?: number;
  schema: Desc;
  /**
   * Where records go that cannot be decoded or validated, whose handler kept failing, or that a
   * consumer crashed on; undefined for a dead-letter topic itself.
   */
  deadLetter?: string;
  /** Public topics are the product's interface to channel adapters and agent desks. */
  external: boolean;
  description: string;
}

const DAY = 24 * 60 * 60 * 1000;
const partitions = Number(process.env.KAFKA_PARTITIONS ?? 6);

/** Kafka's default, stated for every topic so the bus knows each destination's limit. */
const MAX_MESSAGE_BYTES = KAFKA_DEFAULT_MAX_MESSAGE_BYTES;

function topic<Desc extends DescMessage>(
  spec: Omit<TopicSpec<Desc>, 'partitions' | 'cleanupPolicy'> &
    Partial<TopicSpec<Desc>> & { maxMessageBytes: number },
): TopicSpec<Desc> {
  return { partitions, cleanupPolicy: 'delete', ...spec };
}

/** The one key of directory.teams: its record is the whole vocabulary (records of other keys are not). */
export const DIRECTORY_VOCABULARY_KEY = 'vocabulary';

export const Topics = {
  inbound: topic({
    name: 'support.inbound',
    key: '<channel>:<external conversation id>',
    retentionMs: 7 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: InboundMessageSchema,
    deadLetter: 'support.inbound.dlq',
    external: true,
    description: 'Customer messages published by channel adapters and the ingest HTTP API',
  }),
  events: topic({
    name: 'conversation.events',
    key: 'conversation id',
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: ConversationEventSchema,
    deadLetter: 'conversation.events.dlq',
    external: false,
    description: 'The append-only conversation log; never compacted, kept forever',
  }),
  outbound: topic({
    name: 'support.outbound',
    key: 'conversation id',
    retentionMs: 7 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: OutboundMessageSchema,
    deadLetter: 'support.outbound.dlq',
    external: true,
    description: 'Replies and system messages for channel adapters to deliver to the customer',
  }),
  handoffRequests: topic({
    name: 'handoff.requests',
    key: 'conversation id',
    retentionMs: 30 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: HandoffRequestSchema,
    deadLetter: 'handoff.requests.dlq',
    external: true,
    description: 'Handoffs with their briefing, for agent desks',
  }),
  handoffAssignments: topic({
    name: 'handoff.assignments',
    key: 'conversation id',
    retentionMs: 30 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: AgentAssignmentSchema,
    deadLetter: 'handoff.assignments.dlq',
    external: true,
    description: 'Which agent took which handoff, for agent desks',
  }),
  deskActions: topic({
    name: 'desk.actions',
    key: 'conversation id',
    retentionMs: 7 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: DeskActionSchema,
    deadLetter: 'desk.actions.dlq',
    external: true,
    description:
      'What agents do at a desk (accept, decline, reply, hand back, resolve, mark, propose an article); ingest appends it to the log',
  }),
  presence: topic({
    name: 'agent.presence',
    key: 'agent id',
    partitions: 3,
    retentionMs: DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: AgentPresenceSchema,
    deadLetter: 'agent.presence.dlq',
    external: true,
    description:
      'Agents online, away or offline as their desks report it; the router keeps it with a TTL',
  }),
  accounts: topic({
    name: 'crm.accounts',
    key: 'account id',
    partitions: 3,
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    cleanupPolicy: 'compact',
    schema: AccountSchema,
    deadLetter: 'crm.accounts.dlq',
    external: true,
    description:
      'The latest state of each customer account, fed by a CRM connector; an empty value removes the account',
  }),
  directoryTeams: topic({
    name: 'directory.teams',
    key: `"${DIRECTORY_VOCABULARY_KEY}" (one record: the whole vocabulary)`,
    partitions: 1,
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    cleanupPolicy: 'compact',
    schema: DirectoryVocabularySchema,
    deadLetter: 'directory.teams.dlq',
    external: true,
    description:
      "The router's vocabulary: its teams with the skills each covers, and every known skill; the escalation decider checks its policy's names against it",
  }),
  knowledgeEvents: topic({
    name: 'knowledge.events',
    key: 'suggestion id (or article id)',
    partitions: 3,
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: KnowledgeEventSchema,
    deadLetter: 'knowledge.events.dlq',
    external: true,
    description:
      'The learning loop, written by the AI responder: suggestions from resolutions (created, merged, approved, rejected, expired), articles published, resolutions that matched a published article',
  }),
  knowledgeReviews: topic({
    name: 'knowledge.reviews',
    key: 'suggestion id',
    partitions: 3,
    retentionMs: 30 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: KnowledgeReviewSchema,
    deadLetter: 'knowledge.reviews.dlq',
    external: true,
    description:
      'Approvals and rejections of knowledge suggestions from a desk; the AI responder applies them',
  }),
  insightAlerts: topic({
    name: 'insights.alerts',
    key: 'account id or topic',
    partitions: 3,
    retentionMs: 30 * DAY,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: InsightAlertSchema,
    deadLetter: 'insights.alerts.dlq',
    external: true,
    description:
      'Signals the metrics service raises (churn risk, knowledge gaps), for webhooks and account teams',
  }),
  audit: topic({
    name: 'admin.audit',
    key: '<resource type>:<resource id>',
    partitions: 3,
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    schema: AuditRecordSchema,
    deadLetter: 'admin.audit.dlq',
    external: false,
    description:
      "Administrative changes in any service (who changed which agent, login, article, policy or webhook, and when), written with service-kit's AuditTrail; the desk keeps them for GET /v1/audit",
  }),
  policyVersions: topic({
    name: 'policy.versions',
    key: '<policy set>/version/<version> or <policy set>/activation/<activation id>',
    partitions: 1,
    retentionMs: -1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    cleanupPolicy: 'compact',
    schema: PolicyRecordSchema,
    deadLetter: 'policy.versions.dlq',
    external: false,
    description:
      "The escalation decider's policy versions and their activations, in one ordered partition; every decider replica follows it and the latest activation is in force",
  }),
} as const;

/**
 * Dead-letter topics: one per topic, same partitions, kept 30 days, taking
 * records twice the size of their topic's (a dead letter holds the original
 * key, value and headers): any record its topic accepted is dead-lettered
 * whole. A larger one (a topic whose limit was raised by hand) is truncated.
 */
export const DeadLetterTopics: TopicSpec<typeof DeadLetterSchema>[] = Object.values(Topics).map(
  (t) =>
    topic({
      name: t.deadLetter!,
      key: 'the original key',
      retentionMs: 30 * DAY,
      maxMessageBytes: 2 * (t.maxMessageBytes ?? MAX_MESSAGE_BYTES),
      schema: DeadLetterSchema,
      external: false,
      description: `Records of ${t.name} that could not be decoded or validated, whose handler kept failing, or that a consumer crashed on`,
    }),
);

/**
 * Crash marks: the record a consumer was failing on when its process went
 * down, so that the member that next owns the partition dead-letters it
 * instead of crashing again. Compacted; the bus's own topic.
 */
export const CrashMarksTopic: TopicSpec<typeof CrashMarkSchema> = topic({
  name: 'bus.crash-marks',
  key: '<consumer group>|<topic>|<partition>',
  partitions: 1,
  retentionMs: -1,
  cleanupPolicy: 'compact',
  maxMessageBytes: MAX_MESSAGE_BYTES,
  schema: CrashMarkSchema,
  external: false,
  description:
    'Records consumers crashed on, so that a restarted consumer dead-letters them instead of crashing again; an empty value clears the mark',
});

export const AllTopics: TopicSpec[] = [
  ...Object.values(Topics),
  ...DeadLetterTopics,
  CrashMarksTopic,
];

/** A topic's max.message.bytes as declared (Kafka's default when it states none). */
export function maxMessageBytesOf(spec: Pick<TopicSpec, 'maxMessageBytes'>): number {
  return spec.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
}
