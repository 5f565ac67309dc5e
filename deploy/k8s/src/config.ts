/**
 * Configuration: ConfigMaps for what is not secret (the settings every service shares and each
 * service's own), and the container's env for the rest: references to the Secret's keys, the
 * pod's own name, and URLs that take a password from the Secret.
 */
import { createHash } from 'node:crypto';
import type { IEnvVar } from 'kubernetes-models/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import type { ServiceEntry } from './catalogue.js';
import { labels } from './names.js';
import { commonSecrets, type ServiceDeployment } from './service-meta.js';
import type { Values } from './values.js';

function databaseUrl(pg: Values['postgres']): string {
  const db = `postgres://${encodeURIComponent(pg.user)}@${pg.host}:${pg.port}/${encodeURIComponent(pg.database)}`;
  return pg.sslmode ? `${db}?sslmode=${pg.sslmode}` : db;
}

function redisUrl(redis: Values['redis'], password?: string): string {
  const auth = password ? `:${password}@` : '';
  return `${redis.tls ? 'rediss' : 'redis'}://${auth}${redis.host}:${redis.port}/${redis.db}`;
}

/** The settings every service shares (libs/service-kit's config, KAFKA_PARTITIONS of libs/bus). */
export function sharedConfigData(values: Values): Record<string, string> {
  return {
    KAFKA_BROKERS: values.kafka.bootstrapServers,
    // Topics the services would create; Strimzi creates them first with the same partitions.
    KAFKA_PARTITIONS: String(values.kafka.partitions),
    DATABASE_URL: databaseUrl(values.postgres),
    // With a password, REDIS_URL is in the container's env instead (see containerEnv).
    ...(values.redis.passwordSecret ? {} : { REDIS_URL: redisUrl(values.redis) }),
    LOG_LEVEL: values.logLevel,
    HOST: '0.0.0.0',
  };
}

/** One service's own settings: which service the image runs, its port, URLs of the others, values. */
export function serviceConfigData(
  values: Values,
  service: ServiceEntry,
  deployment: ServiceDeployment,
  all: ServiceEntry[],
): Record<string, string> {
  const urls = Object.entries(deployment.urls).map(([variable, target]) => {
    const other = all.find((s) => s.name === target);
    if (!other) throw new Error(`${service.name}: ${variable} names unknown service ${target}`);
    return [variable, `http://${other.name}:${other.port}`];
  });
  return {
    SERVICE: service.name,
    PORT: String(service.port),
    ...Object.fromEntries(urls),
    ...(values.services[service.name]?.env ?? {}),
  };
}

export function configMap(
  values: Values,
  name: string,
  data: Record<string, string>,
  service?: string,
) {
  return new ConfigMap({
    metadata: { name, namespace: values.namespace, labels: labels(values, service) },
    data,
  });
}

/** A hash of the configuration a pod runs with: a change rolls the pods. */
export function configChecksum(...data: Record<string, string>[]): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

/** The container's env: the pod's name, and every secret setting as a reference to its key. */
export function containerEnv(values: Values, deployment: ServiceDeployment): IEnvVar[] {
  const env: IEnvVar[] = [
    // Static group membership: the pod's name is the replica's stable id (workload.ts).
    { name: 'KAFKA_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: commonSecrets.database, valueFrom: { secretKeyRef: values.postgres.passwordSecret } },
  ];
  if (values.redis.passwordSecret) {
    env.push(
      { name: commonSecrets.redis, valueFrom: { secretKeyRef: values.redis.passwordSecret } },
      // Kubernetes expands $(REDIS_PASSWORD) from the variable above, defined before it.
      { name: 'REDIS_URL', value: redisUrl(values.redis, `$(${commonSecrets.redis})`) },
    );
  }
  for (const [name, { key, optional }] of Object.entries(deployment.secrets)) {
    const ref = { name: values.secrets.name, key, ...(optional ? { optional: true } : {}) };
    env.push({ name, valueFrom: { secretKeyRef: ref } });
  }
  return env;
}

export interface SecretKeyUse {
  secret: string;
  key: string;
  optional: boolean;
  services: string[];
}

/** Which Secret keys the manifests reference, and who uses them: what an operator must create. */
export function secretInventory(
  values: Values,
  deployments: Record<string, ServiceDeployment>,
): SecretKeyUse[] {
  const uses = new Map<string, SecretKeyUse>();
  const add = (secret: string, key: string, optional: boolean, service: string) => {
    const id = `${secret}/${key}`;
    const use = uses.get(id) ?? { secret, key, optional, services: [] };
    use.optional &&= optional;
    use.services.push(service);
    uses.set(id, use);
  };
  for (const [service, deployment] of Object.entries(deployments)) {
    const refs = containerEnv(values, deployment).flatMap((e) =>
      e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : [],
    );
    for (const ref of refs) add(ref.name ?? '', ref.key, ref.optional ?? false, service);
  }
  return [...uses.values()];
}
