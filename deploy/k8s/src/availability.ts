/** Voluntary disruptions (node drains, upgrades) take one replica of a service at a time. */
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { labels, selectorLabels } from './names.js';
import type { Values } from './values.js';

export function disruptionBudget(values: Values, service: string): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name: service, namespace: values.namespace, labels: labels(values, service) },
    spec: {
      // One at a time: its partitions move to the others while the rest keep serving.
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(values, service) },
    },
  });
}
