import type { RunningSdk } from './sdk.js';
import { setTracingEnabled } from './state.js';

type Env = Record<string, string | undefined>;

let running: RunningSdk | undefined;

/**
 * Whether the environment asks for traces: an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), and neither
 * OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none turns them off.
 */
export function tracingConfigured(env: Env = process.env): boolean {
  const endpoint = (
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    ''
  ).trim();
  if (!endpoint) return false;
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  return (env.OTEL_TRACES_EXPORTER ?? 'otlp').trim().toLowerCase() !== 'none';
}

/**
 * Starts tracing for this process as `service` when the environment asks for it (see
 * tracingConfigured); otherwise does nothing at all and the SDK is not even loaded. Must run
 * before the modules it instruments (http, express, pg, ioredis) are loaded: a service's main.ts
 * imports its tracing.ts first. Returns whether tracing is on. Starting twice keeps the first.
 */
export function startTracing(service: string, env: Env = process.env): boolean {
  if (running) return true;
  if (!tracingConfigured(env)) return false;
  // Loaded here, not at the top: a process without an endpoint pays nothing for the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk.js') as typeof import('./sdk.js');
  running = startSdk(service, env);
  setTracingEnabled(true);
  return true;
}

/**
 * Exports the spans not sent yet and stops tracing (a service's graceful shutdown calls it once
 * its consumers and producer have stopped). Waits at most `timeoutMs`.
 */
export async function stopTracing(timeoutMs = 5000): Promise<void> {
  const sdk = running;
  if (!sdk) return;
  running = undefined;
  setTracingEnabled(false);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sdk.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}
