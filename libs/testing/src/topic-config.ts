import { ConfigResourceTypes, ConfigSource, type Kafka } from 'kafkajs';

/**
 * Raises topics' max.message.bytes on the broker, as an operator would by
 * hand, so that a test can put records larger than the catalogue allows on
 * them. kafkajs's alterConfigs replaces a topic's whole dynamic configuration,
 * so the topic's other settings (retention, clean-up policy) are read first and
 * kept. Returns a function that puts the topics' settings back as they were.
 */
export async function raiseMaxMessageBytes(
  kafka: Kafka,
  topics: readonly string[],
  bytes: number,
): Promise<() => Promise<void>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    // Only what was set on the topic itself.
    const before = described.resources.map((r) => ({
      name: r.resourceName,
      entries: r.configEntries
        .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
        .map((e) => ({ name: e.configName, value: e.configValue })),
    }));
    await alter(
      kafka,
      before.map(({ name, entries }) => ({
        name,
        entries: [
          ...entries.filter((e) => e.name !== 'max.message.bytes'),
          { name: 'max.message.bytes', value: String(bytes) },
        ],
      })),
    );
    return () => alter(kafka, before);
  } finally {
    await admin.disconnect();
  }
}

async function alter(
  kafka: Kafka,
  topics: { name: string; entries: { name: string; value: string }[] }[],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: topics.map(({ name, entries }) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configEntries: entries,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
