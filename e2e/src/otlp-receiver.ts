/**
 * A small OTLP/HTTP trace receiver for tests: what an OpenTelemetry collector would receive from
 * the services (OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL=http/json).
 * It accepts POST /v1/traces with an ExportTraceServiceRequest in JSON (gzip or not), keeps every
 * span with its service's name, and answers as a collector does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

/** One span as received, its ids in hex and its attributes flattened. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  /** Empty for a trace's root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

export const SpanKinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

const valueOf = (v: AnyValue | undefined): string | number | boolean => {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return JSON.stringify(v);
};

const flatten = (attrs: KeyValue[] | undefined) =>
  Object.fromEntries((attrs ?? []).map((a) => [a.key, valueOf(a.value)]));

/**
 * OTLP/JSON ids are hex, but a base64 id (protobuf's JSON mapping) is accepted too. An all-zero
 * or missing parent is a root.
 */
const hexId = (id: string | undefined): string => {
  if (!id) return '';
  const hex = /^[0-9a-f]+$/i.test(id)
    ? id.toLowerCase()
    : Buffer.from(id, 'base64').toString('hex');
  return /^0*$/.test(hex) ? '' : hex;
};

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests refused (not JSON, wrong path): a test may assert there were none. */
  readonly refused: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((req, res) => void this.handle(req, res));

  private constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters add /v1/traces). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every span of one trace received so far. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Waits until `ready` holds for the spans received (checked as they arrive), or fails after `timeoutMs`. */
  async waitFor(ready: (spans: ReceivedSpan[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this.spans)) {
      if (Date.now() > deadline)
        throw new Error(
          `OTLP receiver: not there after ${timeoutMs} ms (${this.spans.length} spans received)`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0];
    const type = String(req.headers['content-type'] ?? '');
    if (req.method !== 'POST' || path !== '/v1/traces' || !type.includes('json')) {
      this.refused.push(`${req.method} ${path} ${type}`);
      res.writeHead(req.method === 'POST' && path === '/v1/traces' ? 415 : 404).end();
      return;
    }
    try {
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      this.add(JSON.parse(body.toString('utf8')) as ExportTraceServiceRequest);
    } catch (err) {
      this.refused.push(`undecodable: ${(err as Error).message}`);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 3, message: (err as Error).message }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  }

  private add(request: ExportTraceServiceRequest): void {
    for (const rs of request.resourceSpans ?? []) {
      const service = String(flatten(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            service,
            scope: ss.scope?.name ?? '',
            traceId: hexId(s.traceId),
            spanId: hexId(s.spanId),
            parentSpanId: hexId(s.parentSpanId),
            name: s.name,
            kind: s.kind ?? 0,
            startNs: BigInt(s.startTimeUnixNano ?? 0),
            endNs: BigInt(s.endTimeUnixNano ?? 0),
            attributes: flatten(s.attributes),
            statusCode: s.status?.code ?? 0,
          });
    }
  }
}
