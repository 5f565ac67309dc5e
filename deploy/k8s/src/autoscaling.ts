/**
 * Autoscaling on consumer lag: a KEDA ScaledObject per service with the Kafka scaler on its main
 * consumer group (service-meta.ts), and CPU beside it. KEDA drives an HPA on the StatefulSet.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { ServiceEntry } from './catalogue.js';
import { labels } from './names.js';
import type { ServiceDeployment } from './service-meta.js';
import type { Values } from './values.js';

/** The Kafka scaler's settings (all strings, as KEDA takes them). */
export function kafkaTrigger(
  values: Values,
  service: string,
  scaleOn: NonNullable<ServiceDeployment['scaleOn']>,
) {
  const lag = values.services[service]?.lagThreshold ?? values.autoscaling.lagThreshold;
  return {
    type: 'kafka',
    metadata: {
      bootstrapServers: values.kafka.bootstrapServers,
      // The group id the bus gives it (libs/bus consumer.ts): <service>.<group>.
      consumerGroup: `${service}.${scaleOn.group}`,
      topic: scaleOn.topic.name,
      lagThreshold: String(lag),
      // The consumers start from the beginning when the group has no offsets yet (fromBeginning).
      offsetResetPolicy: 'earliest',
      // A replica beyond the partitions would own none: KEDA stops at the partition count.
      allowIdleConsumers: 'false',
      scaleToZeroOnInvalidOffset: 'false',
    },
  };
}

export function scaledObject(
  values: Values,
  service: ServiceEntry,
  deployment: ServiceDeployment,
): ScaledObject | undefined {
  const { scaleOn } = deployment;
  if (!scaleOn || !values.autoscaling.enabled) return undefined;
  const own = values.services[service.name];
  const min = own?.minReplicas ?? values.autoscaling.minReplicas;
  const max = Math.max(
    min,
    Math.min(own?.maxReplicas ?? values.autoscaling.maxReplicas, scaleOn.topic.partitions),
  );
  const cpu = values.autoscaling.cpuUtilization;
  return new ScaledObject({
    metadata: {
      name: service.name,
      namespace: values.namespace,
      labels: labels(values, service.name),
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: service.name },
      minReplicaCount: min,
      maxReplicaCount: max,
      pollingInterval: values.autoscaling.pollingInterval,
      cooldownPeriod: values.autoscaling.cooldownPeriod,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            // One replica at a time: a static member that leaves keeps its partitions until its
            // session times out, so the group settles between steps.
            scaleDown: {
              stabilizationWindowSeconds: 300,
              policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
            },
          },
        },
      },
      triggers: [
        kafkaTrigger(values, service.name, scaleOn),
        ...(cpu > 0
          ? [{ type: 'cpu', metricType: 'Utilization', metadata: { value: String(cpu) } }]
          : []),
      ],
    },
  });
}
