/**
 * The OpenTelemetry SDK of one service process: loaded by startTracing only when an OTLP endpoint
 * is configured (a process without one never loads it). Spans go out in batches over OTLP/HTTP
 * (protobuf by default, JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json); the exporter reads
 * OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS and _TIMEOUT itself.
 *
 * Instrumented besides the Kafka records (kafka.ts) and model calls (@support/llm): the HTTP
 * server and client, Express routes, PostgreSQL queries, Redis commands and fetch. Database and
 * Redis spans are only made inside a traced operation (no span per background poll), Redis spans
 * name the command without its arguments, query strings lose their secrets (SSE tokens, keys; every
 * value of an outgoing fetch's), and the ops endpoints (/health, /metrics) are not traced.
 */
import {
  context,
  diag,
  propagation,
  trace,
  DiagLogLevel,
  type DiagLogger,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';

type Env = Record<string, string | undefined>;

export interface RunningSdk {
  protocol: 'http/json' | 'http/protobuf';
  /** Flushes the spans not exported yet and stops exporting. */
  shutdown(): Promise<void>;
}

/** Paths polled by supervisors and Prometheus: not worth a trace each. */
const OPS_PATHS = new Set(['/health', '/metrics']);

/**
 * Query parameters whose values never go into a span: the conversation tokens of the SSE streams
 * (`?token=`), keys, and the OpenTelemetry HTTP instrumentation's own list (signed URLs).
 */
const SECRET_QUERY_PARAMS = [
  'token',
  'key',
  'access_token',
  'code',
  'secret',
  'password',
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
];

/** An outgoing request's URL with every query value redacted (webhook targets may carry secrets there). */
export function redactedUrl(
  origin: string,
  path: string,
): { 'url.full': string; 'url.query': string } {
  try {
    const url = new URL(path, origin);
    for (const name of new Set(url.searchParams.keys())) url.searchParams.set(name, 'REDACTED');
    return { 'url.full': url.toString(), 'url.query': url.search };
  } catch {
    return { 'url.full': origin, 'url.query': '' };
  }
}

const number = (v: string | undefined, fallback: number): number => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
};

/** OTEL_TRACES_SAMPLER (and _ARG) as the specification names them; parent-based always-on by default. */
export function samplerFromEnv(env: Env): Sampler {
  const ratio = () =>
    new TraceIdRatioBasedSampler(Math.min(1, number(env.OTEL_TRACES_SAMPLER_ARG, 1)));
  switch ((env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Diagnostics of the SDK itself (an unreachable collector, say) as the services' JSON log lines. */
function jsonDiagLogger(service: string): DiagLogger {
  const write =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      process.stderr.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          service,
          msg: `opentelemetry: ${message}`,
          ...(args.length ? { detail: args.map((a) => (a instanceof Error ? a.message : a)) } : {}),
        }) + '\n',
      );
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('debug'),
  };
}

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

export function startSdk(service: string, env: Env): RunningSdk {
  diag.setLogger(jsonDiagLogger(service), {
    logLevel: DIAG_LEVELS[(env.OTEL_LOG_LEVEL ?? '').toLowerCase()] ?? DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
  const requested = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  if (requested !== 'http/json' && requested !== 'http/protobuf')
    diag.warn(`OTLP protocol ${requested} is not supported here; using http/protobuf`);
  const protocol = requested === 'http/json' ? 'http/json' : 'http/protobuf';
  const exporter = protocol === 'http/json' ? new JsonTraceExporter() : new ProtobufTraceExporter();

  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes({
        'service.name': service,
        'service.namespace': 'support',
        // A replica's stable id when it has one (static group membership), else the process.
        'service.instance.id': env.KAFKA_INSTANCE_ID || `${service}-${process.pid}`,
      }),
    );
  const provider = new TracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: number(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
        exportTimeoutMillis: number(env.OTEL_BSP_EXPORT_TIMEOUT, 30000),
        maxQueueSize: number(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
        maxExportBatchSize: number(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
      }),
    ],
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  // Before the service loads the modules these patch (its main.ts imports this first).
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => OPS_PATHS.has((req.url ?? '').split('?')[0]),
        requireParentforOutgoingSpans: true,
        redactedQueryParams: SECRET_QUERY_PARAMS,
        redactedQueryParamsServer: SECRET_QUERY_PARAMS,
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command only: arguments hold keys and values (conversation state).
        dbStatementSerializer: (command) => command,
      }),
      new UndiciInstrumentation({
        requireParentforSpans: true,
        startSpanHook: (request) => redactedUrl(request.origin, request.path),
      }),
    ],
  });

  return {
    protocol,
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        unregister();
      }
    },
  };
}
