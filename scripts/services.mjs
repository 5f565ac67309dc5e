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

const secret = () => randomBytes(24).toString('base64url');

/**
 * Local secrets: generated once into .local/dev.env (git-ignored) unless the environment already
 * sets them. Nothing secret is committed. Every service has an admin key of its own; channel
 * adapters (and the README's curl) use the channel key; the browser gets the widget key only.
 */
const generated = {
  // POST /v1/messages and the rest of ingest's channel API (INGEST_API_KEYS).
  CHANNEL_KEY: () => `chn-${secret()}`,
  INGEST_ADMIN_KEY: () => `adm-ingest-${secret()}`,
  ROUTER_ADMIN_KEY: () => `adm-router-${secret()}`,
  AI_RESPONDER_ADMIN_KEY: () => `adm-ai-${secret()}`,
  DECIDER_ADMIN_KEY: () => `adm-decider-${secret()}`,
  METRICS_ADMIN_KEY: () => `adm-metrics-${secret()}`,
  DESK_ADMIN_KEY: () => `adm-desk-${secret()}`,
  // Publishable: the web chat's only key (INGEST_WIDGET_KEYS).
  WIDGET_KEY: () => `wk_demo_${secret()}`,
  // The demo site's server-side secret for signing its customers' identity (never in a browser).
  WIDGET_IDENTITY_SECRET: () => randomBytes(32).toString('base64url'),
  STREAM_TOKEN_SECRET: () => randomBytes(32).toString('base64url'),
  DESK_SESSION_SECRET: () => randomBytes(32).toString('base64url'),
  DESK_DEMO_PASSWORD: () => `demo-${randomBytes(6).toString('base64url')}`,
};

/** The demo widget key's id (named in conversation tokens and widget conversations' ids). */
export const DEMO_WIDGET_KEY_ID = 'demo';

/** The saved local secrets (generating what is missing); the environment wins over the file. */
function localSecrets() {
  const file = join(root, '.local', 'dev.env');
  let saved = {};
  if (existsSync(file)) {
    saved = Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }
  // Files from before the keys were split held one API_KEY for everything: it is dropped.
  const stale = 'API_KEY' in saved;
  delete saved.API_KEY;
  const missing = Object.keys(generated).filter((k) => !saved[k]);
  if (missing.length || stale) {
    for (const k of missing) saved[k] = generated[k]();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      Object.entries(saved)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }
  return (k) => process.env[k] ?? saved[k];
}

/** The services' settings for running locally. */
export function localEnv() {
  const get = localSecrets();
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support',
    INGEST_API_KEYS: process.env.INGEST_API_KEYS ?? get('CHANNEL_KEY'),
    INGEST_ADMIN_KEYS: process.env.INGEST_ADMIN_KEYS ?? get('INGEST_ADMIN_KEY'),
    // The web chat that ingest serves itself (same origin) uses it; no other site may.
    INGEST_WIDGET_KEYS:
      process.env.INGEST_WIDGET_KEYS ??
      JSON.stringify([
        {
          id: DEMO_WIDGET_KEY_ID,
          key: get('WIDGET_KEY'),
          origins: [],
          identitySecret: get('WIDGET_IDENTITY_SECRET'),
        },
      ]),
    ROUTER_API_KEYS: process.env.ROUTER_API_KEYS ?? get('ROUTER_ADMIN_KEY'),
    // Only agents whose desk is open (services/desk reports presence) get handoffs.
    ROUTER_PRESENCE: process.env.ROUTER_PRESENCE ?? 'required',
    AI_RESPONDER_API_KEYS: process.env.AI_RESPONDER_API_KEYS ?? get('AI_RESPONDER_ADMIN_KEY'),
    DECIDER_API_KEYS: process.env.DECIDER_API_KEYS ?? get('DECIDER_ADMIN_KEY'),
    DESK_API_KEYS: process.env.DESK_API_KEYS ?? get('DESK_ADMIN_KEY'),
    METRICS_API_KEYS: process.env.METRICS_API_KEYS ?? get('METRICS_ADMIN_KEY'),
    // The desk's dashboard reads the metrics service; the metrics service checks threshold
    // suggestions with the decider's what-if: each with the other service's key.
    METRICS_URL: process.env.METRICS_URL ?? 'http://127.0.0.1:3006',
    METRICS_API_KEY: process.env.METRICS_API_KEY ?? get('METRICS_ADMIN_KEY'),
    DECIDER_URL: process.env.DECIDER_URL ?? 'http://127.0.0.1:3004',
    DECIDER_API_KEY: process.env.DECIDER_API_KEY ?? get('DECIDER_ADMIN_KEY'),
    DESK_SESSION_SECRET: get('DESK_SESSION_SECRET'),
    // The desk is served over plain HTTP here: its session cookie cannot be Secure.
    DESK_SECURE_COOKIES: process.env.DESK_SECURE_COOKIES ?? 'false',
    // Sign-ins for the demo agents (services/desk/seed/logins.json), printed by npm start.
    DESK_DEMO_PASSWORD: get('DESK_DEMO_PASSWORD'),
    STREAM_TOKEN_SECRET: get('STREAM_TOKEN_SECRET'),
  };
}

/** The keys npm start shows (and the demo site's identity secret, to sign a demo customer). */
export function localKeys() {
  const get = localSecrets();
  return Object.fromEntries(Object.keys(generated).map((k) => [k, get(k)]));
}

export function serviceEntry(name) {
  return join(root, 'services', name, 'dist', 'main.js');
}

/**
 * Node's flags for a service process (the Docker image's CMD passes the same). V8's young
 * generation grows to 2 x 32 MB per process and stays committed; at 8 MB a side it is collected
 * more often and the seven services took 1,647 against 2,122 MiB of RSS after the same
 * `npm run bench` run (ingest 196 against 302, the AI responder 322 against 426), with the same
 * CPU in all (173 s) and no slower (e2e/src/harness.ts repeats the flag).
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'];

/** The arguments that start a service with `process.execPath`. */
export function serviceArgs(name) {
  return [...NODE_FLAGS, serviceEntry(name)];
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
