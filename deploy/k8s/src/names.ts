/** Names and labels every generated object shares. */
import type { Values } from './values.js';

export const names = {
  /** The ConfigMap of the settings every service shares. */
  sharedConfig: 'support-config',
  config: (service: string) => `${service}-config`,
  /** The headless Service that gives a StatefulSet's pods their stable names. */
  headless: (service: string) => `${service}-pods`,
};

/** The labels that select one service's pods. */
export function selectorLabels(values: Values, service: string): Record<string, string> {
  return { 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': values.partOf };
}

export function labels(values: Values, service?: string): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': values.partOf,
    'app.kubernetes.io/managed-by': 'support-k8s-generator',
    ...(service ? selectorLabels(values, service) : {}),
  };
}

/** A Kubernetes object name for a Kafka topic (lower-case letters, digits, '-' and '.'). */
export function topicObjectName(topic: string): string {
  return topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}
