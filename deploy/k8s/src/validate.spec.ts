import { parseAllDocuments } from 'yaml';
import { toYamlStream } from './output.js';
import type { KafkaTopic } from './topics.js';
import { validateAll } from './validate.js';
import { minimalValues, renderWith, shippedValues } from './testing/support.js';
import { parseValues, type Values } from './values.js';

describe('validation against the Kubernetes, Strimzi and KEDA schemas', () => {
  it.each([
    ['the shipped values', shippedValues],
    ['minimal values', minimalValues],
    [
      'Strimzi v1 topics',
      () =>
        ({
          ...shippedValues(),
          kafka: { ...shippedValues().kafka, strimziApiVersion: 'kafka.strimzi.io/v1' },
        }) as Values,
    ],
  ])('passes every object rendered with %s', async (_name, values) => {
    const { groups, objects } = await renderWith(values());
    expect(objects.length).toBeGreaterThan(29 + 7 * 5);
    expect(validateAll(groups)).toEqual([]);
  });

  it('reports an object that breaks its schema', async () => {
    const { groups, objects } = await renderWith(shippedValues());
    const topic = objects.find((o) => o.kind === 'KafkaTopic') as KafkaTopic;
    topic.spec!.partitions = 0;
    expect(validateAll(groups)).toEqual([
      `KafkaTopic/${topic.metadata!.name}: data/spec/partitions must be >= 1`,
    ]);
  });

  it('reports a Kafka trigger without its group, a bad name, and a reference to nothing', async () => {
    const { groups, objects } = await renderWith(shippedValues());
    const scaler = objects.find((o) => o.kind === 'ScaledObject') as unknown as {
      spec: { triggers: { metadata: Record<string, string> }[] };
    };
    delete scaler.spec.triggers[0].metadata.consumerGroup;
    objects.find((o) => o.kind === 'PodDisruptionBudget')!.metadata!.name = 'Not_A_Name';
    const config = groups.find((g) => g.name === 'config')!;
    config.objects = [];
    const problems = validateAll(groups);
    expect(problems).toEqual(
      expect.arrayContaining([
        'ScaledObject/ingest: kafka trigger lacks consumerGroup',
        'PodDisruptionBudget/Not_A_Name: invalid name "Not_A_Name"',
        'StatefulSet/ingest: no ConfigMap support-config',
      ]),
    );
  });
});

describe('values', () => {
  it('refuse a secret among the settings', () => {
    const values = { ...minimalValues(), services: { ingest: { env: { INGEST_API_KEYS: 'k' } } } };
    expect(() => parseValues(values)).toThrow(/secret-looking variable/);
  });

  it('refuse more in-sync replicas than replicas', () => {
    const values = minimalValues();
    expect(() => parseValues({ ...values, kafka: { ...values.kafka, replicas: 1 } })).toThrow(
      /minInsyncReplicas must not exceed replicas/,
    );
  });
});

describe('the YAML written', () => {
  it('parses back to the objects, one document each', async () => {
    const { groups, objects } = await renderWith(shippedValues());
    const docs = parseAllDocuments(toYamlStream(groups)).map((d) => d.toJSON());
    expect(docs).toEqual(objects.map((o) => JSON.parse(JSON.stringify(o.toJSON()))));
  });
});
