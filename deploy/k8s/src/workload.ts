/**
 * Each service's pods: a StatefulSet rather than a Deployment.
 *
 * The consumers are static group members (KAFKA_INSTANCE_ID, libs/service-kit's config): a
 * replica that restarts within the session timeout takes its partitions back at once, with no
 * rebalance of the others. That needs an id that survives the restart. A Deployment's pods get a
 * new random name each time, so its restarted pod joins as a new member and the old one's
 * partitions wait for its session to expire: static membership would help little. A StatefulSet's
 * pods keep their names (ingest-0, ingest-1...), handed to the container by the Downward API
 * (config.ts). The pods start and stop in parallel (nothing here needs ordering) and keep no
 * volumes: Kafka, PostgreSQL and Redis hold all state.
 */
import { StatefulSet } from 'kubernetes-models/apps/v1';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import type { ServiceEntry } from './catalogue.js';
import { containerEnv } from './config.js';
import { labels, names, selectorLabels } from './names.js';
import type { ServiceDeployment } from './service-meta.js';
import type { Resources, Values } from './values.js';

/** Readiness: 503 while the service starts (restoring state, loading models, joining groups). */
export const READY_PATH = '/health/ready';
/** Liveness: 503 only when a consumer stopped for good. */
export const LIVE_PATH = '/health/live';

function probes(): Pick<IContainer, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  const probe = (path: string, p: Omit<IProbe, 'httpGet'>): IProbe => ({
    httpGet: { path, port: 'http' },
    timeoutSeconds: 3,
    ...p,
  });
  return {
    // Up to five minutes to start (models to load, state to restore from the log) before liveness counts.
    startupProbe: probe(READY_PATH, { periodSeconds: 5, failureThreshold: 60 }),
    // A consumer joining again after a broker died keeps the pod ready: HTTP serves meanwhile.
    readinessProbe: probe(READY_PATH, { periodSeconds: 5, failureThreshold: 2 }),
    // A consumer that stopped for good turns liveness red: restart the pod.
    livenessProbe: probe(LIVE_PATH, { periodSeconds: 10, failureThreshold: 3 }),
  };
}

function container(
  values: Values,
  service: ServiceEntry,
  deployment: ServiceDeployment,
  resources: Resources,
): IContainer {
  return {
    name: service.name,
    image: `${values.image.repository}:${values.image.tag}`,
    imagePullPolicy: values.image.pullPolicy,
    ports: [{ name: 'http', containerPort: service.port, protocol: 'TCP' }],
    envFrom: [
      { configMapRef: { name: names.sharedConfig } },
      { configMapRef: { name: names.config(service.name) } },
    ],
    env: containerEnv(values, deployment),
    ...probes(),
    resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}

export function statefulSet(
  values: Values,
  service: ServiceEntry,
  deployment: ServiceDeployment,
  configChecksum: string,
): StatefulSet {
  const own = values.services[service.name];
  const resources = own?.resources ?? deployment.resources;
  const scaled = values.autoscaling.enabled && deployment.scaleOn;
  return new StatefulSet({
    metadata: {
      name: service.name,
      namespace: values.namespace,
      labels: labels(values, service.name),
    },
    spec: {
      serviceName: names.headless(service.name),
      // Under KEDA the count is the HPA's (from minReplicas up, autoscaling.ts): stated here, every
      // apply would set it back to the floor under load. Without autoscaling, the floor is the count.
      ...(scaled ? {} : { replicas: own?.minReplicas ?? values.autoscaling.minReplicas }),
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: selectorLabels(values, service.name) },
      template: {
        metadata: {
          labels: labels(values, service.name),
          annotations: {
            'checksum/config': configChecksum,
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(service.port),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          // The service's own shutdown deadline is 25 s (libs/service-kit runService).
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            // The image's `node` user.
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels(values, service.name) },
            },
          ],
          containers: [container(values, service, deployment, resources)],
        },
      },
    },
  });
}
