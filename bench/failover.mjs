// node bench/failover.mjs [-- --service ingest --rounds 3 --base-port 5401]
// A service killed with SIGKILL and started again: how soon it answers HTTP and how soon /health
// is 200 (every consumer has joined its group), as a static member (KAFKA_INSTANCE_ID, the
// default of `npm start`) and, in the same run as the reference, as a dynamic member (no instance
// id), which waits for the dead member's session (KAFKA_SESSION_TIMEOUT_MS) to expire.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { serviceArgs, services } from '../scripts/services.mjs';

const { values: args } = parseArgs({
  options: {
    service: { type: 'string', default: 'ingest' },
    rounds: { type: 'string', default: '3' },
    'base-port': { type: 'string', default: '5401' },
    'session-timeout-ms': { type: 'string', default: '10000' },
  },
});
const service = args.service;
if (!services.some((s) => s.name === service)) throw new Error(`no service ${service}`);
const port = Number(args['base-port']);
const rounds = Number(args.rounds);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const key = `bench-${randomBytes(8).toString('hex')}`;
const env = {
  ...process.env,
  PORT: String(port),
  LOG_LEVEL: 'warn',
  KAFKA_SESSION_TIMEOUT_MS: args['session-timeout-ms'],
  INGEST_API_KEYS: key,
  ROUTER_API_KEYS: key,
  AI_RESPONDER_API_KEYS: key,
  DESK_API_KEYS: key,
  METRICS_API_KEYS: key,
  DESK_SESSION_SECRET: randomBytes(24).toString('hex'),
  STREAM_TOKEN_SECRET: randomBytes(24).toString('hex'),
};

const start = (instanceId) => {
  const extra = instanceId ? { KAFKA_INSTANCE_ID: instanceId } : {};
  const { KAFKA_INSTANCE_ID: _drop, ...base } = env;
  return spawn(process.execPath, serviceArgs(service), {
    env: { ...base, ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
};

/** Milliseconds from t0 until GET /health answers at all, and until it answers 200. */
async function timeToServe(t0) {
  let answered;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.text();
      answered ??= performance.now() - t0;
      if (res.status === 200) return { answered, healthy: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 120_000) throw new Error(`${service} not healthy in 120 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function killAndRestart(instanceId) {
  let child = start(instanceId);
  await timeToServe(performance.now());
  const figures = [];
  for (let i = 0; i < rounds; i++) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const t0 = performance.now();
    child = start(instanceId);
    figures.push(await timeToServe(t0));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return figures;
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  `settings: service=${service} rounds=${rounds} KAFKA_SESSION_TIMEOUT_MS=${args['session-timeout-ms']} brokers=${brokers} cpus=${cpus().length} node=${process.version}`,
);
console.log('\n| membership | round | HTTP answers after restart | /health 200 after restart |');
console.log('|---|---|---|---|');
for (const [name, instanceId] of [
  ['static (KAFKA_INSTANCE_ID)', `${service}-bench-0`],
  ['dynamic (reference)', undefined],
]) {
  const figures = await killAndRestart(instanceId);
  figures.forEach((f, i) =>
    console.log(`| ${name} | ${i + 1} | ${fmt(f.answered)} | ${fmt(f.healthy)} |`),
  );
}
process.exit(0);
