import type { Admin, Kafka } from 'kafkajs';
import { AllTopics } from '@support/bus';
import { fuzzRequests, type FuzzCredentials, type FuzzRequest } from './fuzz-inputs.js';
import { listRoutes, type HasHttpAdapter, type HttpRoute } from './http-routes.js';
import { sendRaw, type RawResponse } from './raw-http.js';

export interface HttpFuzzOptions {
  /** The application under test, initialised and listening on `url`. */
  app: HasHttpAdapter;
  /** Where it listens, e.g. http://127.0.0.1:40123. */
  url: string;
  /** A client of the cluster the service publishes to: its topics' end offsets are compared. */
  kafka: Kafka;
  /** The same seed sends the same requests (default 1). */
  seed?: string | number;
  /** The service's valid credentials (API keys, a session cookie); bad bodies are sent with each. */
  auth?: readonly FuzzCredentials[];
  /** Plausible path parameter values by name (raw), so that other cases get past the id checks. */
  params?: Record<string, readonly string[]>;
  /** Query parameter and body field names to try besides the common ones. */
  queryNames?: readonly string[];
  fieldNames?: readonly string[];
  /** Requests in all (spread over the routes, at least `minPerRoute` each). Default 600. */
  maxRequests?: number;
  minPerRoute?: number;
  /** Requests between two comparisons of the topics' end offsets. Default 25. */
  batchSize?: number;
  /** Topics whose end offsets are compared; default every catalogued one (AllTopics). */
  topics?: readonly string[];
  /** Routes to leave out, e.g. `GET /metrics` (checked by `method path` as registered). */
  skip?: readonly string[];
}

export interface FuzzFailure {
  route: string;
  label: string;
  method: string;
  target: string;
  status: number;
  /** The start of the response body, or why there was no response. */
  detail: string;
}

export interface PublishedOnRejected {
  route: string;
  /** The requests of the batch (all answered 4xx). */
  labels: string[];
  /** `topic[partition]: before -> after` for each end offset that moved. */
  moved: string[];
}

export interface HttpFuzzReport {
  routes: HttpRoute[];
  requests: number;
  /** How many answers had each status. */
  statuses: Record<number, number>;
  /** Answers of 500 or above, or none at all. */
  serverErrors: FuzzFailure[];
  /** Batches answered 4xx only during which a topic's end offset moved. */
  publishedOnRejected: PublishedOnRejected[];
  /**
   * Batches during which no end offset moved, or which were all refused (4xx):
   * nothing was published for their refused requests, or what was is reported.
   */
  batchesCompared: number;
  /**
   * Batches during which the offsets moved while some request was accepted
   * (2xx/3xx), and whose refused requests, sent again on their own, were not
   * all refused again (or there were none).
   */
  batchesUncompared: number;
}

type Offsets = Map<string, string>;

async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  const all = await Promise.all(
    topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const),
  );
  for (const [topic, partitions] of all)
    for (const p of partitions) out.set(`${topic}[${p.partition}]`, p.high);
  return out;
}

function moved(before: Offsets, after: Offsets): string[] {
  return [...after]
    .filter(([key, high]) => before.get(key) !== high)
    .map(([key, high]) => `${key}: ${before.get(key) ?? '(none)'} -> ${high}`);
}

/** Waits until the end offsets stop moving (after a batch some of whose requests were accepted). */
async function settled(admin: Admin, topics: readonly string[], last: Offsets): Promise<Offsets> {
  let previous = last;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await endOffsets(admin, topics);
    if (moved(previous, now).length === 0) return now;
    previous = now;
  }
  return previous;
}

/** Sends a route's requests in batches and compares the topics' end offsets around each. */
class FuzzRun {
  readonly report: HttpFuzzReport;
  private offsets: Offsets = new Map();

  constructor(
    private readonly options: HttpFuzzOptions,
    private readonly admin: Admin,
    routes: HttpRoute[],
    private readonly topics: readonly string[],
  ) {
    this.report = {
      routes,
      requests: 0,
      statuses: {},
      serverErrors: [],
      publishedOnRejected: [],
      batchesCompared: 0,
      batchesUncompared: 0,
    };
  }

  /** What the service publishes of its own accord at start-up (catching up on the log) is not counted. */
  async start(): Promise<void> {
    this.offsets = await settled(
      this.admin,
      this.topics,
      await endOffsets(this.admin, this.topics),
    );
  }

  async fuzz(route: HttpRoute, perRoute: number): Promise<void> {
    const name = `${route.method} ${route.path}`;
    const { options } = this;
    const requests = fuzzRequests(route, {
      seed: options.seed ?? 1,
      auth: options.auth ?? [],
      params: options.params,
      queryNames: options.queryNames,
      fieldNames: options.fieldNames,
      perRoute,
    });
    const size = options.batchSize ?? 25;
    for (let i = 0; i < requests.length; i += size)
      await this.batch(requests.slice(i, i + size), name, true);
  }

  private async send(batch: FuzzRequest[], route: string): Promise<[FuzzRequest, RawResponse][]> {
    const { hostname, port } = new URL(this.options.url);
    const answers: [FuzzRequest, RawResponse][] = [];
    for (const req of batch)
      answers.push([req, await sendRaw({ host: hostname, port: Number(port) }, req)]);
    record(this.report, route, answers);
    return answers;
  }

  /**
   * Sends a batch and compares the end offsets before and after it. When they
   * moved and some request was accepted, the move may be its doing: the
   * refused requests are sent again on their own, once the offsets are still.
   */
  private async batch(batch: FuzzRequest[], route: string, again: boolean): Promise<void> {
    const answers = await this.send(batch, route);
    const after = await endOffsets(this.admin, this.topics);
    const changes = moved(this.offsets, after);
    const refused = answers.filter(([, a]) => a.status >= 400 && a.status < 500).map(([r]) => r);
    this.offsets = after;
    if (changes.length === 0 || refused.length === answers.length) {
      this.report.batchesCompared++;
      if (changes.length)
        this.report.publishedOnRejected.push({
          route,
          labels: refused.map((r) => r.label),
          moved: changes,
        });
      return;
    }
    this.offsets = await settled(this.admin, this.topics, after);
    if (again && refused.length) return this.batch(refused, route, false);
    this.report.batchesUncompared++;
  }
}

/**
 * Sends a bounded, seeded set of bad requests to every route of a running
 * Nest application (listed from its Express router, so routes added later
 * are covered): bad path parameters, query strings, headers, JSON and raw
 * bodies, content types and credentials (fuzz-inputs.ts). Every answer must
 * be below 500; and across each batch of requests that were all refused
 * (4xx), no catalogued topic's end offset may move: nothing was published
 * for them. Returns what it saw; the caller asserts (see expectHardened).
 */
export async function fuzzHttpApp(options: HttpFuzzOptions): Promise<HttpFuzzReport> {
  const skip = new Set(options.skip ?? []);
  const routes = listRoutes(options.app).filter((r) => !skip.has(`${r.method} ${r.path}`));
  const max = options.maxRequests ?? 600;
  const perRoute = Math.max(
    options.minPerRoute ?? 12,
    Math.floor(max / Math.max(routes.length, 1)),
  );
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const run = new FuzzRun(options, admin, routes, options.topics ?? AllTopics.map((t) => t.name));
    await run.start();
    for (const route of routes) await run.fuzz(route, perRoute);
    return run.report;
  } finally {
    await admin.disconnect();
  }
}

function record(report: HttpFuzzReport, route: string, answers: [FuzzRequest, RawResponse][]) {
  for (const [req, answer] of answers) {
    report.requests++;
    report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
    if (answer.status === 0 || answer.status >= 500)
      report.serverErrors.push({
        route,
        label: req.label,
        method: req.method,
        target: req.target.length > 200 ? `${req.target.slice(0, 200)}…` : req.target,
        status: answer.status,
        detail: answer.error ?? answer.body.slice(0, 500),
      });
  }
}

/**
 * The assertions of a fuzz run: some requests went to every route, none was
 * answered 5xx (or not at all), nothing was published for refused ones.
 */
export function expectHardened(report: HttpFuzzReport, atLeast = 100): void {
  const summary = {
    serverErrors: report.serverErrors,
    publishedOnRejected: report.publishedOnRejected,
  };
  expect(summary).toEqual({ serverErrors: [], publishedOnRejected: [] });
  expect(report.requests).toBeGreaterThanOrEqual(atLeast);
  expect(report.batchesCompared).toBeGreaterThan(0);
}
