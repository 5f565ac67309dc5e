/**
 * Validation of every rendered object: against its schema (the Kubernetes OpenAPI schema, or the
 * CRD's for Strimzi and KEDA, compiled into the typed models), then the rules those schemas leave
 * out: object names, the Kafka scaler's settings (free-form in KEDA's CRD), and references
 * between objects.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import type { Manifest, ManifestGroup } from './render.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const KAFKA_SCALER_REQUIRED = ['bootstrapServers', 'consumerGroup', 'topic', 'lagThreshold'];

export const describe = (o: Manifest) => `${o.kind}/${o.metadata?.name ?? '?'}`;

function schemaErrors(o: Manifest): string[] {
  try {
    o.validate();
    return [];
  } catch (err) {
    return [`${describe(o)}: ${(err as Error).message}`];
  }
}

function nameErrors(o: Manifest): string[] {
  const name = o.metadata?.name ?? '';
  // Services and the pods' host names are DNS labels; everything else a DNS subdomain.
  const ok = Service.is(o) ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name);
  return ok && name.length <= 253 ? [] : [`${describe(o)}: invalid name "${name}"`];
}

function scalerErrors(o: Manifest): string[] {
  if (!ScaledObject.is(o)) return [];
  return o.spec.triggers
    .filter((t) => t.type === 'kafka')
    .flatMap((t) =>
      KAFKA_SCALER_REQUIRED.filter((k) => !t.metadata?.[k]).map(
        (k) => `${describe(o)}: kafka trigger lacks ${k}`,
      ),
    );
}

/** Each StatefulSet's governing Service, ConfigMaps and scaler target exist among the objects. */
function referenceErrors(all: Manifest[]): string[] {
  const has = (kind: string, name?: string) =>
    all.some((o) => o.kind === kind && o.metadata?.name === name);
  const errors: string[] = [];
  for (const o of all) {
    if (StatefulSet.is(o)) {
      if (!has('Service', o.spec?.serviceName))
        errors.push(`${describe(o)}: no Service ${o.spec?.serviceName}`);
      const refs = o.spec?.template.spec?.containers.flatMap((c) => c.envFrom ?? []) ?? [];
      for (const ref of refs)
        if (ref.configMapRef && !has(ConfigMap.kind, ref.configMapRef.name))
          errors.push(`${describe(o)}: no ConfigMap ${ref.configMapRef.name}`);
    }
    if (
      ScaledObject.is(o) &&
      !has(o.spec.scaleTargetRef.kind ?? 'Deployment', o.spec.scaleTargetRef.name)
    )
      errors.push(`${describe(o)}: no ${o.spec.scaleTargetRef.kind} ${o.spec.scaleTargetRef.name}`);
  }
  return errors;
}

/** Every problem found, one line each; empty when all objects are valid. */
export function validateAll(groups: ManifestGroup[]): string[] {
  const all = groups.flatMap((g) => g.objects);
  const errors = all.flatMap((o) => [...schemaErrors(o), ...nameErrors(o), ...scalerErrors(o)]);
  const seen = new Set<string>();
  for (const o of all) {
    const id = `${o.apiVersion} ${describe(o)} ${o.metadata?.namespace ?? ''}`;
    if (seen.has(id)) errors.push(`${describe(o)}: defined twice`);
    seen.add(id);
  }
  return [...errors, ...referenceErrors(all)];
}
