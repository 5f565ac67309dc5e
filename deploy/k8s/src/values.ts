/**
 * The values an operator gives the generator (deploy/k8s/values.yaml or a file of their own):
 * where the image, Kafka, PostgreSQL and Redis are, how many replicas, and per-service settings.
 * Never secret values: the manifests name a Secret and its keys, and the cluster holds them.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/** A key of a Secret that exists in the cluster (created by the operator, never by the generator). */
const secretRef = z.object({ name: z.string().min(1), key: z.string().min(1) }).strict();

const quantity = z.string().regex(/^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a Kubernetes quantity');

export const resourcesSchema = z
  .object({
    requests: z.object({ cpu: quantity, memory: quantity }).strict(),
    limits: z.object({ cpu: quantity.optional(), memory: quantity }).strict(),
  })
  .strict();

export type Resources = z.infer<typeof resourcesSchema>;

/** Names that hold keys, tokens or passwords: they come from the Secret, never from values. */
export const SECRET_NAME = /(KEYS?|SECRET|TOKEN|PASSWORD)$/;

const envMap = z
  .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name'), z.string())
  .default({})
  .refine((env) => !Object.keys(env).some((k) => SECRET_NAME.test(k)), {
    message: 'holds a secret-looking variable: put it in the Secret (secrets.name), not in values',
  });

const autoscalingSchema = z
  .object({
    /** KEDA ScaledObjects; false: fixed replicas (minReplicas) and no KEDA needed. */
    enabled: z.boolean().default(true),
    minReplicas: z.number().int().min(1).default(2),
    /** Capped at the scaled topic's partitions: a replica beyond them would own none. */
    maxReplicas: z.number().int().min(1).default(6),
    /** Records of lag per replica the Kafka scaler aims at. */
    lagThreshold: z.number().int().min(1).default(100),
    /** CPU utilisation (% of the request) that adds replicas too; 0 turns the CPU trigger off. */
    cpuUtilization: z.number().int().min(0).max(100).default(80),
    pollingInterval: z.number().int().min(1).default(15),
    cooldownPeriod: z.number().int().min(1).default(300),
  })
  .strict();

const serviceValuesSchema = z
  .object({
    minReplicas: z.number().int().min(1).optional(),
    maxReplicas: z.number().int().min(1).optional(),
    lagThreshold: z.number().int().min(1).optional(),
    resources: resourcesSchema.optional(),
    /** Settings from the service's config (services/<name>/src/config.ts), into its ConfigMap. */
    env: envMap,
  })
  .strict();

export const valuesSchema = z
  .object({
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
    /** Labels every object carries (app.kubernetes.io/part-of and the like are added). */
    partOf: z.string().default('support-platform'),
    image: z
      .object({
        repository: z.string().min(1),
        tag: z.string().min(1),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
      })
      .strict(),
    kafka: z
      .object({
        bootstrapServers: z.string().min(1),
        /** The Strimzi Kafka cluster the topics belong to (label strimzi.io/cluster). */
        strimziCluster: z.string().min(1),
        /** The namespace the Strimzi topic operator watches; default: namespace. */
        topicNamespace: z.string().optional(),
        strimziApiVersion: z
          .enum(['kafka.strimzi.io/v1beta2', 'kafka.strimzi.io/v1'])
          .default('kafka.strimzi.io/v1beta2'),
        /** Partitions of the catalogue's topics that state none (KAFKA_PARTITIONS in the code). */
        partitions: z.number().int().min(1).default(6),
        replicas: z.number().int().min(1).default(3),
        minInsyncReplicas: z.number().int().min(1).default(2),
      })
      .strict()
      .refine((k) => k.minInsyncReplicas <= k.replicas, {
        message: 'minInsyncReplicas must not exceed replicas',
      }),
    postgres: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(5432),
        database: z.string().min(1).default('support'),
        user: z.string().min(1),
        sslmode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
        /** The password, given to the services as PGPASSWORD (node-postgres reads it). */
        passwordSecret: secretRef,
      })
      .strict(),
    redis: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(6379),
        db: z.number().int().min(0).default(0),
        tls: z.boolean().default(false),
        /** URL-safe password (it goes into REDIS_URL); none: Redis without AUTH. */
        passwordSecret: secretRef.optional(),
      })
      .strict(),
    /** The Secret holding the platform's keys (see README: the keys it must have). */
    secrets: z
      .object({ name: z.string().min(1).default('support-secrets') })
      .strict()
      .prefault({}),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    autoscaling: autoscalingSchema.prefault({}),
    services: z.record(z.string(), serviceValuesSchema).default({}),
  })
  .strict();

export type Values = z.infer<typeof valuesSchema>;
export type ServiceValues = z.infer<typeof serviceValuesSchema>;

/** Parses values, naming each invalid field. */
export function parseValues(input: unknown): Values {
  const result = valuesSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid values:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadValues(file: string): Values {
  return parseValues(parse(readFileSync(file, 'utf8')));
}
