import { Bus, type BusLogger } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { appendToLog } from './events.js';
import { TopicWatcher, type WatchedTopic } from './topic-watcher.js';
import { waitUntil } from './wait.js';

/** The part of a Nest application the rig uses (`INestApplication` has it). */
export interface TestApp {
  listen(port: number, hostname: string): Promise<unknown>;
  getUrl(): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceRigOptions<App extends TestApp> {
  /** The test's name: its Kafka client id, its `producer` header and its watcher's group prefix. */
  name: string;
  brokers: string[];
  /** Creates the service's application; the rig makes it listen on a free port of 127.0.0.1. */
  createApp: () => Promise<App>;
  /** The topics to watch, from the moment the service is ready. */
  watch: readonly WatchedTopic[];
  /** When the service is ready for the test; by default once GET /health answers 200. */
  ready?: { what: string; check: (app: App, url: string) => boolean | Promise<boolean> };
  readyTimeoutMs?: number;
  /** The logger of the test's own bus; by default errors only, as JSON on stderr. */
  logger?: BusLogger;
}

/** A service under test, on the real infrastructure, with a bus and a watcher of the test's own. */
export interface ServiceRig<App extends TestApp> {
  app: App;
  /** Where the service listens, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The test's own client, to publish what the other services would. */
  bus: Bus;
  watcher: TopicWatcher;
  /** Appends a conversation event to the log as its owner would; resolves with its correlation id. */
  append(event: ConversationEvent, options?: { correlationId?: string }): Promise<string>;
  /** Stops the watcher (deleting its group), the test's bus and the service, in that order. */
  close(): Promise<void>;
}

const errorsOnly: BusLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: (msg, context) => console.error(JSON.stringify({ level: 'error', msg, ...context })),
};

/** Is the service healthy: does GET /health answer 200? */
export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts a service for an integration test: makes its application listen,
 * waits until it is ready, then starts the test's bus and a watcher of the
 * given topics. Whatever was started is stopped again if a step fails.
 */
export async function startServiceRig<App extends TestApp>(
  options: ServiceRigOptions<App>,
): Promise<ServiceRig<App>> {
  const stack: (() => Promise<unknown>)[] = [];
  const close = async () => {
    const errors: unknown[] = [];
    while (stack.length) {
      await stack.pop()!().catch((err: unknown) => errors.push(err));
    }
    if (errors.length) throw errors[0];
  };
  try {
    const app = await options.createApp();
    stack.push(() => app.close());
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const ready = options.ready ?? { what: 'GET /health 200', check: () => healthy(url) };
    await waitUntil(`${options.name}: ${ready.what}`, () => ready.check(app, url), {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
    });
    const bus = new Bus({
      service: options.name,
      brokers: options.brokers,
      logger: options.logger ?? errorsOnly,
    });
    stack.push(() => bus.close());
    const watcher = await TopicWatcher.start(bus.kafka, options.watch, { group: options.name });
    stack.push(() => watcher.stop());
    return {
      app,
      url,
      bus,
      watcher,
      append: (event, appendOptions) => appendToLog(bus, event, appendOptions),
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
