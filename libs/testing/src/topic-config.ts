import { ConfigResourceTypes, ConfigSource, type Kafka } from 'kafkajs';

/**
 * Raises topics' max.message.bytes on the broker, as an operator would by
 * hand, so that a test can put records larger than the catalogue allows on
 * them. kafkajs's alterConfigs replaces a topic's whole dynamic configuration,
 * so the topic's other settings (retention, clean-up policy) are read first and
 * kept.
 */
export async function raiseMaxMessageBytes(
  kafka: Kafka,
  topics: readonly string[],
  bytes: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    await admin.alterConfigs({
      validateOnly: false,
      resources: described.resources.map((r) => ({
        type: ConfigResourceTypes.TOPIC,
        name: r.resourceName,
        configEntries: [
          ...r.configEntries
            // Only what was set on the topic itself.
            .filter(
              (e) =>
                e.configSource === ConfigSource.TOPIC_CONFIG &&
                e.configName !== 'max.message.bytes',
            )
            .map((e) => ({ name: e.configName, value: e.configValue })),
          { name: 'max.message.bytes', value: String(bytes) },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
