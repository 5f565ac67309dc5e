/**
 * Runs the services as separate processes (the built dist/main.js of
 * each), on ports of their own, and watches the topics they write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { Kafka, logLevel } from 'kafkajs';
import { sleep, TopicWatcher, type WatchedTopic } from '@support/testing';

export { sleep };

export const root = join(__dirname, '..', '..');

export const SERVICES = [
  'ingest',
  'ai-responder',
  'sentiment-scorer',
  'escalation-decider',
  'router',
  'metrics',
  'desk',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The tests' server-side key: every service's admin key, and ingest's channel key. */
export const API_KEY = `e2e-${randomBytes(12).toString('hex')}`;
/** The publishable widget key: the only key the web chat in the browser holds. */
export const WIDGET_KEY = `wk_e2e_${randomBytes(12).toString('hex')}`;
/** The tests' "customer site" secret for signing customer identities (never in a browser). */
export const WIDGET_IDENTITY_SECRET = randomBytes(32).toString('hex');
const BASE_PORT = Number(process.env.E2E_BASE_PORT ?? 4101);
export const port = (s: ServiceName) => BASE_PORT + SERVICES.indexOf(s);
/** Replica n of a service listens n steps above the service's port. */
const REPLICA_PORT_STEP = 50;

/** Node's flags for a service, as scripts/services.mjs gives them (NODE_FLAGS). */
const NODE_FLAGS = ['--max-semi-space-size=8'];
export const url = (s: ServiceName, path: string) => `http://127.0.0.1:${port(s)}${path}`;
/** A site allowed to embed the widget (a test may serve a page there). */
export const WIDGET_ORIGIN = `http://127.0.0.1:${BASE_PORT + 40}`;

/** A customer identity as the customer's site signs it: an HS256 JWT (sub, accountId, exp). */
export function signedIdentity(
  customerId: string,
  opts: { accountId?: string; expiresInSeconds?: number; secret?: string } = {},
): string {
  return jwt.sign(
    { sub: customerId, ...(opts.accountId ? { accountId: opts.accountId } : {}) },
    opts.secret ?? WIDGET_IDENTITY_SECRET,
    { algorithm: 'HS256', expiresIn: opts.expiresInSeconds ?? 3600 },
  );
}

/**
 * The web chat with the widget key only; with `customer`, signed in as that customer (and
 * `account`) the way the customer's site would sign them in.
 */
export function chatUrl(opts: { customer?: string; account?: string; key?: string } = {}): string {
  const base = url('ingest', `/?key=${encodeURIComponent(opts.key ?? WIDGET_KEY)}`);
  return opts.customer
    ? `${base}#identity=${signedIdentity(opts.customer, { accountId: opts.account })}`
    : base;
}

const env = {
  ...process.env,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support',
  INGEST_API_KEYS: API_KEY,
  INGEST_ADMIN_KEYS: API_KEY,
  INGEST_WIDGET_KEYS: JSON.stringify([
    {
      id: 'e2e',
      key: WIDGET_KEY,
      origins: [WIDGET_ORIGIN],
      identitySecret: WIDGET_IDENTITY_SECRET,
      // The browser tests all come from 127.0.0.1, one file after another.
      requestsPerMinutePerAddress: 600,
    },
  ]),
  ROUTER_API_KEYS: API_KEY,
  // No desk reports presence in these tests: every agent on duty counts as online.
  ROUTER_PRESENCE: 'ignored',
  AI_RESPONDER_API_KEYS: API_KEY,
  DECIDER_API_KEYS: API_KEY,
  DESK_API_KEYS: API_KEY,
  METRICS_API_KEYS: API_KEY,
  // The desk's dashboard reads the metrics service; the metrics service replays suggestions with
  // the decider's what-if.
  METRICS_URL: `http://127.0.0.1:${BASE_PORT + SERVICES.indexOf('metrics')}`,
  METRICS_API_KEY: API_KEY,
  DECIDER_URL: `http://127.0.0.1:${BASE_PORT + SERVICES.indexOf('escalation-decider')}`,
  DECIDER_API_KEY: API_KEY,
  DESK_SESSION_SECRET: randomBytes(24).toString('hex'),
  // The desk is served over plain HTTP in these tests: its session cookie cannot be Secure.
  DESK_SECURE_COOKIES: 'false',
  STREAM_TOKEN_SECRET: randomBytes(24).toString('hex'),
  KAFKA_SESSION_TIMEOUT_MS: '8000',
  LOG_LEVEL: 'info',
};

export class ServiceProcess {
  private child?: ChildProcess;
  constructor(
    readonly name: ServiceName,
    /** Settings for this test file on top of the shared ones, e.g. CRM_LOOKUP_URL for the decider. */
    private readonly extraEnv: Record<string, string> = {},
    /** A second replica (1, 2, …) of the service: a port and a group instance id of its own. */
    readonly replica = 0,
  ) {}

  /** The port this replica listens on (the service's port for replica 0). */
  get port(): number {
    return port(this.name) + REPLICA_PORT_STEP * this.replica;
  }

  start(): void {
    const logDir = join(root, 'e2e', 'logs');
    mkdirSync(logDir, { recursive: true });
    const logName = this.replica ? `${this.name}-${this.replica}` : this.name;
    const log = createWriteStream(join(logDir, `${logName}.log`), { flags: 'a' });
    this.child = spawn(
      process.execPath,
      [...NODE_FLAGS, join(root, 'services', this.name, 'dist', 'main.js')],
      {
        cwd: root,
        // Static group members: a service killed and started again takes its partitions back at once.
        env: {
          ...env,
          KAFKA_INSTANCE_ID: `${this.name}-${this.replica}`,
          ...this.extraEnv,
          PORT: String(this.port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
  }

  async healthy(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(
          `${this.name} exited with ${this.child.exitCode}; see e2e/logs/${this.name}.log`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/health`);
        if (res.ok) return;
        last = await res.text();
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(300);
    }
    throw new Error(`${this.name} not healthy after ${timeoutMs} ms: ${last}`);
  }

  /** Ends the process: SIGKILL for a crash, SIGTERM for a graceful stop. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
      // A graceful stop that hangs ends a test file no later than this (the service exits by
      // itself 25 s after SIGTERM; this is the harness's own guard).
      if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), 40_000).unref();
    });
  }
}

/** Starts every service; `extraEnv` adds settings per service (e.g. the decider's CRM_LOOKUP_URL). */
export async function startAll(
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Map<ServiceName, ServiceProcess>> {
  const procs = new Map(SERVICES.map((s) => [s, new ServiceProcess(s, extraEnv[s])]));
  try {
    // Start one first so that topics exist and migrations run before the others race for them.
    procs.get('ingest')!.start();
    await procs.get('ingest')!.healthy();
    for (const [name, p] of procs) if (name !== 'ingest') p.start();
    await Promise.all([...procs.values()].map((p) => p.healthy()));
  } catch (error) {
    // A file whose services never came up must not leave them holding the ports of the next one.
    await Promise.all([...procs.values()].map((p) => p.stop('SIGKILL')));
    throw error;
  }
  return procs;
}

/** The test's own Kafka client: the topic watcher's, and for putting raw bytes on a topic. */
export const kafka = new Kafka({
  clientId: 'e2e-watcher',
  brokers: [env.KAFKA_BROKERS],
  logLevel: logLevel.NOTHING,
});

/** Watches some topics from their current end (see @support/testing), waiting up to a minute by default. */
export function watchTopics(topics: readonly WatchedTopic[]): Promise<TopicWatcher> {
  return TopicWatcher.start(kafka, topics, { group: 'e2e', timeoutMs: 60_000 });
}

export async function postMessage(
  body: Record<string, unknown>,
  apiKey = API_KEY,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url('ingest', '/v1/messages'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export function customerMessage(
  text: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const id = randomUUID();
  return {
    channel: 'web',
    externalConversationId: `chat-${id}`,
    customerId: `cust-${id.slice(0, 8)}`,
    text,
    idempotencyKey: `msg-${id}`,
    locale: 'en',
    ...extra,
  };
}

/** Every skill the demo roster's teams use: an agent with all of them can take any handoff. */
export const ALL_SKILLS = [
  'general',
  'account',
  'billing',
  'refunds',
  'technical',
  'onboarding',
  'legal',
  'privacy',
  'security',
];

/**
 * Puts an agent of this test file in the router's directory, by default able to take any English
 * handoff and with room for many: earlier test files leave offers nobody accepts with the demo
 * roster, which a test must not have to wait behind. `removeAgent` takes it out again.
 */
export async function registerAgent(agent: {
  id: string;
  name: string;
  team: string;
  skills?: string[];
  languages?: string[];
  maxConcurrent?: number;
}): Promise<void> {
  const res = await fetch(url('router', `/v1/agents/${agent.id}`), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({
      name: agent.name,
      team: agent.team,
      skills: agent.skills ?? ALL_SKILLS,
      languages: agent.languages ?? ['en'],
      maxConcurrent: agent.maxConcurrent ?? 100,
    }),
  });
  if (!res.ok) throw new Error(`PUT /v1/agents/${agent.id}: ${res.status} ${await res.text()}`);
}

/**
 * Takes a test's agent out of routing for the files that follow: deactivated first, so that they
 * are never offered a handoff again even while the router still counts a conversation they held
 * (then the removal is refused with 409) and their desk's last presence report lasts
 * (ROUTER_PRESENCE_TTL_S), then removed from the roster. An agent left active and online outranks
 * the next file's agent on a tie (by id) and takes its handoffs.
 */
export async function removeAgent(id: string): Promise<void> {
  const authorization = `Bearer ${API_KEY}`;
  await fetch(url('router', `/v1/agents/${id}`), {
    method: 'PATCH',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ active: false }),
  }).catch(() => undefined);
  await fetch(url('router', `/v1/agents/${id}`), {
    method: 'DELETE',
    headers: { authorization },
  }).catch(() => undefined);
}

/** Questions the demo knowledge base answers, and requests for a person: the fault tests' traffic. */
const TRAFFIC = {
  question: [
    'How do I reset my password?',
    'Where can I download my invoices?',
    'How do I create an API key?',
    'How do I add a team member?',
  ],
  request: ['I want to talk to a human', 'Can I speak to an agent please?'],
};

/** The fault tests' n-th message of a kind: a question the AI answers, or a request for a person. */
export function trafficText(kind: 'question' | 'request', n: number): string {
  const texts = TRAFFIC[kind];
  return texts[n % texts.length];
}
