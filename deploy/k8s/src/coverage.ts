/**
 * The check that the manifests cover the code: every topic the services create has its
 * KafkaTopic with the catalogue's settings (and no KafkaTopic is for a topic the code does not
 * know), every service its workload, Services, disruption budget, configuration, health probes
 * and, when it scales on a consumer group, its ScaledObject.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { TopicSpec } from '@support/bus';
import { StatefulSet, type IStatefulSet } from 'kubernetes-models/apps/v1';
import type { Catalogue, ServiceEntry } from './catalogue.js';
import { names } from './names.js';
import type { Manifest, ManifestGroup } from './render.js';
import type { ServiceDeployment } from './service-meta.js';
import { topicConfig, type KafkaTopic } from './topics.js';
import type { Values } from './values.js';
import { LIVE_PATH, READY_PATH } from './workload.js';

const isKafkaTopic = (o: Manifest): o is KafkaTopic => o.kind === 'KafkaTopic';

function topicErrors(values: Values, spec: TopicSpec, topic: KafkaTopic | undefined): string[] {
  if (!topic) return [`topic ${spec.name}: no KafkaTopic`];
  const errors: string[] = [];
  if (topic.spec?.partitions !== spec.partitions)
    errors.push(
      `topic ${spec.name}: ${topic.spec?.partitions} partitions, the catalogue says ${spec.partitions}`,
    );
  for (const [key, want] of Object.entries(topicConfig(values, spec))) {
    const got = (topic.spec?.config as Record<string, unknown> | undefined)?.[key];
    if (String(got) !== String(want))
      errors.push(`topic ${spec.name}: ${key} is ${got}, the catalogue says ${want}`);
  }
  return errors;
}

export function checkTopics(values: Values, catalogue: Catalogue, objects: Manifest[]): string[] {
  const topics = objects.filter(isKafkaTopic);
  const byName = new Map(topics.map((t) => [t.spec?.topicName ?? t.metadata?.name, t]));
  const known = new Set(catalogue.topics.map((t) => t.name));
  return [
    ...catalogue.topics.flatMap((spec) => topicErrors(values, spec, byName.get(spec.name))),
    // The bus dead-letters into these: each must be a topic of its own.
    ...catalogue.topics
      .filter((t) => t.deadLetter && !known.has(t.deadLetter))
      .map((t) => `topic ${t.name}: its dead-letter topic ${t.deadLetter} is not in the catalogue`),
    ...[...byName.keys()]
      .filter((name) => !known.has(name ?? ''))
      .map((name) => `KafkaTopic ${name}: no such topic in the catalogue`),
  ];
}

function probeErrors(service: ServiceEntry, set: IStatefulSet): string[] {
  const container = set.spec?.template.spec?.containers.find((c) => c.name === service.name);
  if (!container) return [`service ${service.name}: no container ${service.name}`];
  const errors: string[] = [];
  if (!container.ports?.some((p) => p.name === 'http' && p.containerPort === service.port))
    errors.push(`service ${service.name}: container port http is not ${service.port}`);
  const expected = { readinessProbe: READY_PATH, livenessProbe: LIVE_PATH } as const;
  for (const [kind, path] of Object.entries(expected) as [keyof typeof expected, string][]) {
    if (container[kind]?.httpGet?.path !== path)
      errors.push(`service ${service.name}: no ${kind} on ${path}`);
  }
  return errors;
}

function serviceErrors(
  service: ServiceEntry,
  deployment: ServiceDeployment | undefined,
  objects: Manifest[],
  autoscaling: boolean,
): string[] {
  if (!deployment) return [`service ${service.name}: no deployment metadata (service-meta.ts)`];
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const wanted: [string, string][] = [
    ['StatefulSet', service.name],
    ['Service', service.name],
    ['Service', names.headless(service.name)],
    ['PodDisruptionBudget', service.name],
    ['ConfigMap', names.config(service.name)],
    ...(deployment.scaleOn && autoscaling
      ? [['ScaledObject', service.name] as [string, string]]
      : []),
  ];
  const errors = wanted
    .filter(([kind, name]) => !find(kind, name))
    .map(([kind, name]) => `service ${service.name}: no ${kind} ${name}`);
  const set = find('StatefulSet', service.name);
  if (StatefulSet.is(set)) errors.push(...probeErrors(service, set));
  return [...errors, ...scalerErrors(service, deployment, find('ScaledObject', service.name))];
}

function scalerErrors(
  service: ServiceEntry,
  deployment: ServiceDeployment,
  scaler: Manifest | undefined,
): string[] {
  if (!deployment.scaleOn || !scaler || !ScaledObject.is(scaler)) return [];
  const group = `${service.name}.${deployment.scaleOn.group}`;
  const kafka = scaler.spec.triggers.find((t) => t.type === 'kafka');
  return kafka?.metadata?.consumerGroup === group &&
    kafka.metadata.topic === deployment.scaleOn.topic.name
    ? []
    : [
        `service ${service.name}: ScaledObject does not scale on ${group} over ${deployment.scaleOn.topic.name}`,
      ];
}

/** Every way the manifests fall short of the catalogue and the service list; empty when none. */
export function checkCoverage(
  values: Values,
  catalogue: Catalogue,
  groups: ManifestGroup[],
  deployments: Record<string, ServiceDeployment>,
): string[] {
  const objects = groups.flatMap((g) => g.objects);
  const services = new Set(catalogue.services.map((s) => s.name));
  return [
    ...checkTopics(values, catalogue, objects),
    ...catalogue.services.flatMap((s) =>
      serviceErrors(s, deployments[s.name], objects, values.autoscaling.enabled),
    ),
    ...Object.keys(deployments)
      .filter((name) => !services.has(name))
      .map((name) => `deployment metadata for ${name}: no such service in scripts/services.mjs`),
    ...Object.keys(values.services)
      .filter((name) => !services.has(name))
      .map((name) => `values services.${name}: no such service in scripts/services.mjs`),
  ];
}
