import {
  AllTopics,
  DeadLetterTopics,
  Topics,
  maxMessageBytesOf,
  type TopicSpec,
} from '@support/bus';
import { checkCoverage, checkTopics } from './coverage.js';
import { deployments } from './service-meta.js';
import { ofKind, renderWith, shippedValues } from './testing/support.js';

interface TopicJson {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    topicName: string;
    partitions: number;
    replicas: number;
    config: Record<string, unknown>;
  };
}

describe('KafkaTopics from the topic catalogue', () => {
  it('has one for every topic the services create, with the catalogue settings', async () => {
    const { objects, values } = await renderWith(shippedValues());
    const topics = ofKind<TopicJson>(objects, 'KafkaTopic');
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(AllTopics.map((t) => t.name).sort());
    for (const spec of AllTopics) {
      const topic = topics.find((t) => t.spec.topicName === spec.name)!;
      expect(topic.spec.partitions).toBe(spec.partitions);
      expect(topic.spec.replicas).toBe(values.kafka.replicas);
      expect(topic.spec.config).toEqual({
        'retention.ms': spec.retentionMs,
        'cleanup.policy': spec.cleanupPolicy,
        'max.message.bytes': maxMessageBytesOf(spec),
        'min.insync.replicas': values.kafka.minInsyncReplicas,
      });
      expect(topic.metadata.labels['strimzi.io/cluster']).toBe(values.kafka.strimziCluster);
      expect(topic.metadata.namespace).toBe(values.kafka.topicNamespace);
    }
  });

  it('has every dead-letter topic the catalogue names, each taking twice its topic record size', async () => {
    const { objects } = await renderWith(shippedValues());
    const names = ofKind<TopicJson>(objects, 'KafkaTopic').map((t) => t.spec.topicName);
    for (const t of Object.values(Topics)) expect(names).toContain(t.deadLetter);
    expect(DeadLetterTopics.map((t) => t.name).sort()).toEqual(
      Object.values(Topics)
        .map((t) => t.deadLetter)
        .sort(),
    );
  });

  it('replicates by the values: three copies, two in sync, unless told otherwise', async () => {
    const values = shippedValues();
    expect([values.kafka.replicas, values.kafka.minInsyncReplicas]).toEqual([3, 2]);
    values.kafka = { ...values.kafka, replicas: 5, minInsyncReplicas: 3 };
    const topics = ofKind<TopicJson>((await renderWith(values)).objects, 'KafkaTopic');
    expect(new Set(topics.map((t) => t.spec.replicas))).toEqual(new Set([5]));
    expect(new Set(topics.map((t) => t.spec.config['min.insync.replicas']))).toEqual(new Set([3]));
  });
});

describe('the coverage check', () => {
  const extra: TopicSpec = { ...Topics.audit, name: 'extra.topic', deadLetter: 'extra.topic.dlq' };

  it('finds nothing missing in what the catalogue renders to', async () => {
    const { values, catalogue, groups } = await renderWith(shippedValues());
    expect(checkCoverage(values, catalogue, groups, deployments)).toEqual([]);
  });

  it('reports a topic of the catalogue that has no KafkaTopic, and its dead-letter topic', async () => {
    const { values, catalogue, objects } = await renderWith(shippedValues());
    const grown = { ...catalogue, topics: [...catalogue.topics, extra] };
    expect(checkTopics(values, grown, objects)).toEqual([
      'topic extra.topic: no KafkaTopic',
      'topic extra.topic: its dead-letter topic extra.topic.dlq is not in the catalogue',
    ]);
  });

  it('reports a KafkaTopic whose settings differ from the catalogue, and one the code does not know', async () => {
    const { values, catalogue, objects } = await renderWith(shippedValues());
    const changed = catalogue.topics.map((t) =>
      t.name === Topics.events.name ? { ...t, partitions: 12, retentionMs: 1000 } : t,
    );
    const shrunk = changed.filter((t) => t.name !== Topics.audit.name);
    expect(checkTopics(values, { ...catalogue, topics: shrunk }, objects)).toEqual([
      `topic conversation.events: ${Topics.events.partitions} partitions, the catalogue says 12`,
      'topic conversation.events: retention.ms is -1, the catalogue says 1000',
      'KafkaTopic admin.audit: no such topic in the catalogue',
    ]);
  });
});
