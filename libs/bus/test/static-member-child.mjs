// A consumer process for static-member.int.spec.ts: joins TOPIC's group as a static member
// (INSTANCE_ID) with a long session, prints "joined" once it has, then one line per record.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Bus } = require('../dist/index.js');
const { testTopic } = require('../dist/testing.js');

const [brokers, topic, service, instanceId] = process.argv.slice(2);
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const bus = new Bus({
  service,
  brokers: brokers.split(','),
  instanceId,
  sessionTimeoutMs: 60_000,
  logger: quiet,
});
void bus.consume({
  group: 'g',
  topic: testTopic(topic),
  handle: async (r) => console.log(JSON.stringify({ text: r.value.text, pid: process.pid })),
});
const timer = setInterval(() => {
  if (!bus.health().ok) return;
  clearInterval(timer);
  console.log('joined');
}, 50);
