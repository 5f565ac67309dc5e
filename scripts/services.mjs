// The services, their ports and the environment they run with locally.
// Shared by `npm start` (scripts/run-all.mjs), the end-to-end tests and the benchmark.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const services = [
  { name: 'ingest', port: 3001 },
  { name: 'ai-responder', port: 3002 },
  { name: 'sentiment-scorer', port: 3003 },
  { name: 'escalation-decider', port: 3004 },
  { name: 'router', port: 3005 },
  { name: 'metrics', port: 3006 },
  { name: 'desk', port: 3007 },
];

/**
 * Local secrets: generated once into .local/dev.env (git-ignored) unless the
 * environment already sets them. Nothing secret is committed.
 */
export function localEnv() {
  const file = join(root, '.local', 'dev.env');
  let saved = {};
  if (existsSync(file)) {
    saved = Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } else {
    saved = {
      API_KEY: `dev-${randomBytes(18).toString('base64url')}`,
      STREAM_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    };
  }
  // Added after the first release of this file: generated into an existing one too.
  const added = {
    DESK_SESSION_SECRET: () => randomBytes(32).toString('base64url'),
    DESK_DEMO_PASSWORD: () => `demo-${randomBytes(6).toString('base64url')}`,
  };
  const missing = Object.keys(added).filter((k) => !saved[k]);
  if (missing.length) {
    for (const k of missing) saved[k] = added[k]();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      Object.entries(saved)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }
  const apiKey = process.env.API_KEY ?? saved.API_KEY;
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support',
    INGEST_API_KEYS: process.env.INGEST_API_KEYS ?? apiKey,
    ROUTER_API_KEYS: process.env.ROUTER_API_KEYS ?? apiKey,
    // Only agents whose desk is open (services/desk reports presence) get handoffs.
    ROUTER_PRESENCE: process.env.ROUTER_PRESENCE ?? 'required',
    AI_RESPONDER_API_KEYS: process.env.AI_RESPONDER_API_KEYS ?? apiKey,
    DECIDER_API_KEYS: process.env.DECIDER_API_KEYS ?? apiKey,
    DESK_API_KEYS: process.env.DESK_API_KEYS ?? apiKey,
    METRICS_API_KEYS: process.env.METRICS_API_KEYS ?? apiKey,
    // The desk's dashboard reads the metrics service; the metrics service checks threshold
    // suggestions with the decider's what-if.
    METRICS_URL: process.env.METRICS_URL ?? 'http://127.0.0.1:3006',
    METRICS_API_KEY: process.env.METRICS_API_KEY ?? apiKey,
    DECIDER_URL: process.env.DECIDER_URL ?? 'http://127.0.0.1:3004',
    DECIDER_API_KEY: process.env.DECIDER_API_KEY ?? apiKey,
    DESK_SESSION_SECRET: process.env.DESK_SESSION_SECRET ?? saved.DESK_SESSION_SECRET,
    // The desk is served over plain HTTP here: its session cookie cannot be Secure.
    DESK_SECURE_COOKIES: process.env.DESK_SECURE_COOKIES ?? 'false',
    // Sign-ins for the demo agents (services/desk/seed/logins.json), printed by npm start.
    DESK_DEMO_PASSWORD: process.env.DESK_DEMO_PASSWORD ?? saved.DESK_DEMO_PASSWORD,
    STREAM_TOKEN_SECRET: process.env.STREAM_TOKEN_SECRET ?? saved.STREAM_TOKEN_SECRET,
    API_KEY: apiKey,
  };
}

export function serviceEntry(name) {
  return join(root, 'services', name, 'dist', 'main.js');
}

/** Polls a service's /health until it answers 200; false if it has not within the time given. */
export async function waitHealthy(port, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}
