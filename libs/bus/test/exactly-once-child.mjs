// A consume-and-publish process for exactly-once.int.spec.ts: reads FROM in group "copy" as the
// static member INSTANCE_ID and publishes two records to TO for each one it reads, with
// exactlyOnce on (MODE "eos") or off ("plain"). Prints "joined", then the offset of each record
// it handled. With DIE_AFTER n it kills itself with SIGKILL from inside the handler of the n-th
// record, after publishing, so that what it handled last is never committed; with DIE_IN_COMMIT n
// it does so as its n-th transaction starts to commit, its records sent: a transaction left open.
import { tracingChannel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Bus } = require('../dist/index.js');
const { testTopic } = require('../dist/testing.js');

const [brokers, from, to, service, instanceId, mode, dieAfter, dieInCommit] = process.argv.slice(2);
if (dieInCommit) {
  let commits = 0;
  tracingChannel('plt:kafka:producer:transactions').subscribe({
    start: (context) => {
      if (context.operation === 'commit' && ++commits === Number(dieInCommit))
        process.kill(process.pid, 'SIGKILL');
    },
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: () => undefined,
    error: () => undefined,
  });
}
// Warnings and errors go to stderr, which the test shows.
const quiet = {
  log: () => undefined,
  warn: (msg, meta) => console.error(msg, JSON.stringify(meta)),
  error: (msg, meta) => console.error(msg, JSON.stringify(meta)),
};
const bus = new Bus({
  service,
  brokers: brokers.split(','),
  instanceId,
  sessionTimeoutMs: 60_000,
  logger: quiet,
});
let handled = 0;
void bus.consume({
  group: 'copy',
  topic: testTopic(from),
  exactlyOnce: mode === 'eos',
  handle: async (r) => {
    for (const n of [1, 2])
      await bus.publish({
        topic: testTopic(to),
        key: r.key,
        value: { ...r.value, text: `${r.value.text}#${n}` },
      });
    handled++;
    console.log(`${r.partition}:${r.offset}`);
    if (dieAfter && handled === Number(dieAfter)) process.kill(process.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 2));
  },
});
const timer = setInterval(() => {
  if (!bus.health().ok) return;
  clearInterval(timer);
  console.log('joined');
}, 50);
