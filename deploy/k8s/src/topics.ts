/**
 * The catalogue's topics as Strimzi KafkaTopics: the topic operator creates them (and keeps their
 * settings) before the services start, with the same partitions, retention, clean-up policy and
 * record size the services would create them with, and the cluster's replication.
 */
import type { TopicSpec } from '@support/bus';
import { maxMessageBytesOf } from '@support/bus';
import { KafkaTopic as KafkaTopicV1 } from '@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1';
import { KafkaTopic as KafkaTopicV1beta2 } from '@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2';
import { labels, topicObjectName } from './names.js';
import type { Values } from './values.js';

export type KafkaTopic = KafkaTopicV1 | KafkaTopicV1beta2;

/** The topic's settings as Kafka names them. */
export function topicConfig(values: Values, spec: TopicSpec): Record<string, string | number> {
  return {
    'retention.ms': spec.retentionMs,
    'cleanup.policy': spec.cleanupPolicy,
    'max.message.bytes': maxMessageBytesOf(spec),
    'min.insync.replicas': values.kafka.minInsyncReplicas,
  };
}

export function kafkaTopic(values: Values, spec: TopicSpec): KafkaTopic {
  const data = {
    metadata: {
      name: topicObjectName(spec.name),
      namespace: values.kafka.topicNamespace ?? values.namespace,
      labels: { ...labels(values), 'strimzi.io/cluster': values.kafka.strimziCluster },
      annotations: { description: spec.description },
    },
    spec: {
      topicName: spec.name,
      partitions: spec.partitions,
      replicas: values.kafka.replicas,
      config: topicConfig(values, spec),
    },
  };
  return values.kafka.strimziApiVersion === 'kafka.strimzi.io/v1'
    ? new KafkaTopicV1(data)
    : new KafkaTopicV1beta2(data);
}
