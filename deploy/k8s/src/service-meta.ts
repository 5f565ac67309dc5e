/**
 * What the manifests need to know about each service that its code does not say in one place:
 * which consumer group's lag to scale on, which settings come from the Secret, which hold
 * another service's URL, and its resources. The one place for it; a test checks it against the
 * code (the consumers each service starts, the settings its config reads).
 */
import { Topics, type TopicSpec } from '@support/bus';
import type { Resources } from './values.js';

export interface SecretSetting {
  /** The key in the platform's Secret (the same names as .local/dev.env and docker-compose.yml). */
  key: string;
  /** The service starts without it (an optional provider key). */
  optional?: boolean;
}

export interface ServiceDeployment {
  /**
   * The consumer group (the part after `<service>.`) and topic whose lag KEDA scales on: the
   * service's main consumer, which every replica runs. Undefined: no Kafka scaling.
   */
  scaleOn?: { group: string; topic: TopicSpec };
  /** Settings from the Secret: variable name -> key. */
  secrets: Record<string, SecretSetting>;
  /** Settings that hold another service's URL: variable name -> that service. */
  urls: Record<string, string>;
  resources: Resources;
}

const small: Resources = {
  requests: { cpu: '250m', memory: '256Mi' },
  limits: { memory: '768Mi' },
};

/** The services that load the sentence encoder (ONNX), and the AI responder its intent models. */
const withEncoder: Resources = {
  requests: { cpu: '500m', memory: '768Mi' },
  limits: { memory: '1536Mi' },
};

/** Provider keys the LLM library reads (libs/llm): optional, the extractive path needs none. */
const llmKey = { LLM_API_KEY: { key: 'LLM_API_KEY', optional: true } };

/** The log consumer every event-sourced service runs (libs/stream consumeConversationLog). */
const log = { group: 'log', topic: Topics.events };

export const deployments: Record<string, ServiceDeployment> = {
  ingest: {
    scaleOn: { group: 'inbound', topic: Topics.inbound },
    secrets: {
      INGEST_API_KEYS: { key: 'CHANNEL_KEY' },
      INGEST_ADMIN_KEYS: { key: 'INGEST_ADMIN_KEY' },
      // Publishable keys, but each may hold the identity secret a customer's site signs with.
      INGEST_WIDGET_KEYS: { key: 'INGEST_WIDGET_KEYS', optional: true },
      STREAM_TOKEN_SECRET: { key: 'STREAM_TOKEN_SECRET' },
    },
    urls: {},
    // It embeds each customer message (INGEST_MESSAGE_VECTORS) for the responder and the scorer.
    resources: withEncoder,
  },
  'ai-responder': {
    scaleOn: log,
    secrets: {
      AI_RESPONDER_API_KEYS: { key: 'AI_RESPONDER_ADMIN_KEY' },
      EMBEDDINGS_API_KEY: { key: 'EMBEDDINGS_API_KEY', optional: true },
      ...llmKey,
    },
    urls: {},
    resources: withEncoder,
  },
  'sentiment-scorer': { scaleOn: log, secrets: {}, urls: {}, resources: withEncoder },
  'escalation-decider': {
    scaleOn: log,
    secrets: {
      DECIDER_API_KEYS: { key: 'DECIDER_ADMIN_KEY' },
      CRM_LOOKUP_TOKEN: { key: 'CRM_LOOKUP_TOKEN', optional: true },
      ...llmKey,
    },
    urls: {},
    resources: withEncoder,
  },
  router: {
    scaleOn: log,
    secrets: { ROUTER_API_KEYS: { key: 'ROUTER_ADMIN_KEY' } },
    urls: {},
    resources: small,
  },
  metrics: {
    scaleOn: { group: 'read-model', topic: Topics.events },
    secrets: {
      METRICS_API_KEYS: { key: 'METRICS_ADMIN_KEY' },
      DECIDER_API_KEY: { key: 'DECIDER_ADMIN_KEY' },
    },
    urls: { DECIDER_URL: 'escalation-decider' },
    resources: small,
  },
  desk: {
    scaleOn: log,
    secrets: {
      DESK_API_KEYS: { key: 'DESK_ADMIN_KEY' },
      DESK_SESSION_SECRET: { key: 'DESK_SESSION_SECRET' },
      METRICS_API_KEY: { key: 'METRICS_ADMIN_KEY' },
    },
    urls: { METRICS_URL: 'metrics' },
    resources: small,
  },
};

/** The settings every service reads that are secret (libs/service-kit config): none besides these. */
export const commonSecrets = {
  /** node-postgres takes the password from PGPASSWORD when DATABASE_URL has none. */
  database: 'PGPASSWORD',
  /** Spliced into REDIS_URL by Kubernetes ($(REDIS_PASSWORD)); ioredis reads only the URL. */
  redis: 'REDIS_PASSWORD',
} as const;
