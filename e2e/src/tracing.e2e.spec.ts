/**
 * Traces end to end: every service exports its spans over OTLP/HTTP (JSON) to a small receiver in
 * this test (OTEL_EXPORTER_OTLP_ENDPOINT), and one customer message is one connected trace: from
 * ingest's HTTP request (or its consumption of a channel adapter's record on support.inbound)
 * through each record's publish and consume (the W3C trace context rides in the Kafka headers),
 * the AI responder, the sentiment scorer and the escalation decider to the reply; for a request
 * for a person, on to the router's assignment and the decider's chat-model call for the briefing
 * summary (a fake provider). The test plays the channel adapter: it starts each trace itself (a
 * `traceparent` of its own on the request or record), so it knows the trace id before anything
 * happens and the one span without a parent in the receiver must be ingest's entry span, whose
 * parent is the adapter's. The services run as separate processes on the real Kafka, Redis and
 * PostgreSQL, as in the other end-to-end files.
 */
import { randomBytes } from 'node:crypto';
import { Topics } from '@support/bus';
import { create, InboundMessageSchema, OutboundKind, toBinary } from '@support/contracts';
import { FakeLlmServer, type TopicWatcher, type WatchedRecord } from '@support/testing';
import {
  API_KEY,
  customerMessage,
  kafka,
  registerAgent,
  removeAgent,
  ServiceProcess,
  sleep,
  SERVICES,
  url,
  watchTopics,
  type ServiceName,
} from './harness';
import { OtlpReceiver, SpanKinds, type ReceivedSpan } from './otlp-receiver';

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
let receiver: OtlpReceiver;
let fakeLlm: FakeLlmServer;
const onDuty = { id: `agent-tracing-${process.pid}`, name: 'Tracy Span', team: 'Support' };

/**
 * As the harness's startAll (ingest first, then the others), with more patience for a machine
 * that other test runs keep busy.
 */
async function startServices(
  env: Partial<Record<ServiceName, Record<string, string>>>,
): Promise<Map<ServiceName, ServiceProcess>> {
  const started = new Map(SERVICES.map((s) => [s, new ServiceProcess(s, env[s])]));
  try {
    started.get('ingest')!.start();
    await started.get('ingest')!.healthy(STARTUP_MS);
    for (const [name, p] of started) if (name !== 'ingest') p.start();
    await Promise.all([...started.values()].map((p) => p.healthy(STARTUP_MS)));
  } catch (error) {
    await Promise.all([...started.values()].map((p) => p.stop('SIGKILL')));
    throw error;
  }
  return started;
}
const STARTUP_MS = 300_000;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  fakeLlm = await FakeLlmServer.start();
  fakeLlm.respondWith({ text: 'The customer asks for a person.' });
  const tracing = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Spans go out within a fifth of a second instead of five seconds.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const env: Partial<Record<ServiceName, Record<string, string>>> = {};
  for (const s of SERVICES) env[s] = { ...tracing };
  // The decider's briefing summaries come from a chat model (a fake one): a model call to trace.
  Object.assign(env['escalation-decider']!, {
    LLM_PROVIDER: 'openai',
    LLM_BASE_URL: `${fakeLlm.origin}/v1`,
    LLM_MAX_RETRIES: '0',
    LLM_TIMEOUT_MS: '3000',
  });
  procs = await startServices(env);
  await registerAgent(onDuty);
  watcher = await watchTopics([
    Topics.events,
    Topics.outbound,
    Topics.handoffRequests,
    Topics.handoffAssignments,
  ]);
}, 900_000);

afterAll(async () => {
  await removeAgent(onDuty.id);
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
  await fakeLlm?.close();
  await receiver?.close();
});

/** A client's span, as a channel adapter would start one: the test's own, so it is not exported. */
function clientSpan(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Whether a record's `traceparent` header is in this trace. */
const inTrace = (record: WatchedRecord, traceId: string) =>
  (record.headers['traceparent'] ?? '').startsWith(`00-${traceId}-`);

/** POST /v1/messages as a channel adapter in the middle of a trace of its own. */
async function postInTrace(body: Record<string, unknown>, traceparent: string) {
  const res = await fetch(url('ingest', '/v1/messages'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${API_KEY}`,
      traceparent,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Spans whose parent the trace does not hold. */
const orphans = (spans: ReceivedSpan[]) => {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => !ids.has(s.parentSpanId));
};

const describeSpan = (s: ReceivedSpan) => `${s.service}: ${s.name}`;

/**
 * Waits until the trace holds a consumer span of each service (and whatever else `ready` asks) and
 * every span's parent has arrived, but for the entry span whose parent is the client's (a parent
 * ends, and is exported, after its children).
 */
async function connectedTrace(
  client: { traceId: string; spanId: string },
  services: ServiceName[],
  ready: (spans: ReceivedSpan[]) => boolean = () => true,
): Promise<ReceivedSpan[]> {
  const connected = (spans: ReceivedSpan[]) =>
    orphans(spans).every((s) => s.parentSpanId === client.spanId);
  await receiver
    .waitFor((all) => {
      const spans = all.filter((s) => s.traceId === client.traceId);
      return (
        services.every((svc) =>
          spans.some((s) => s.service === svc && s.kind === SpanKinds.consumer),
        ) &&
        ready(spans) &&
        connected(spans)
      );
    }, 60_000)
    .catch((err: Error) => {
      const spans = receiver.trace(client.traceId);
      throw new Error(
        `${err.message}\ntrace ${client.traceId} holds:\n  ${spans.map(describeSpan).join('\n  ')}\n` +
          `without their parent: ${orphans(spans).map(describeSpan).join(', ') || 'none'}`,
      );
    });
  // Stragglers of the same batch window.
  await sleep(1000);
  return receiver.trace(client.traceId);
}

/** The one span with this service and name (the first, when several). */
const spanOf = (spans: ReceivedSpan[], service: ServiceName, name: string) => {
  const span = spans.find((s) => s.service === service && s.name === name);
  if (!span)
    throw new Error(
      `no "${name}" span of ${service} in the trace: ${spans.map(describeSpan).join(', ')}`,
    );
  return span;
};

const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan) =>
  spans.find((s) => s.spanId === span.parentSpanId);

/** The consumer span of a service for the record of this event type. */
const consumerOf = (spans: ReceivedSpan[], service: ServiceName, eventType: string) => {
  const span = spans.find(
    (s) =>
      s.service === service &&
      s.kind === SpanKinds.consumer &&
      s.attributes['support.event_type'] === eventType,
  );
  if (!span) throw new Error(`${service} has no consumer span of a ${eventType} in the trace`);
  return span;
};

/**
 * What the trace of one customer message must be: its one entry span in ingest (the child of the
 * client's span), every other span's parent in the trace, only this conversation's records, and
 * no customer text anywhere.
 */
function expectOneConnectedTrace(
  spans: ReceivedSpan[],
  client: { spanId: string },
  entry: string,
  text: string,
  conversationId: string,
) {
  expect(orphans(spans).map(describeSpan)).toEqual([`ingest: ${entry}`]);
  expect(orphans(spans)[0].parentSpanId).toBe(client.spanId);
  for (const s of spans.filter((x) => x.name === `process ${Topics.events.name}`))
    expect({ span: describeSpan(s), key: s.attributes['messaging.kafka.message.key'] }).toEqual({
      span: describeSpan(s),
      key: conversationId,
    });
  expect(JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
    text,
  );
}

/** The AI answers: ingest → AI responder → sentiment scorer → escalation decider → the reply. */
function expectAnsweredChain(spans: ReceivedSpan[]) {
  const received = spans.find(
    (s) =>
      s.service === 'ingest' &&
      s.name === `send ${Topics.events.name}` &&
      s.attributes['support.event_type'] === 'support.v1.CustomerMessageReceived',
  );
  expect(received).toBeDefined();
  // Each service's consumer span is the child of the publish span of the record it consumed.
  for (const service of ['ai-responder', 'sentiment-scorer', 'escalation-decider'] as const) {
    const consumed = consumerOf(spans, service, 'support.v1.CustomerMessageReceived');
    expect(parentOf(spans, consumed)?.spanId).toBe(received!.spanId);
    expect(parentOf(spans, consumed)?.kind).toBe(SpanKinds.producer);
  }
  const proposed = consumerOf(spans, 'escalation-decider', 'support.v1.AiReplyProposed');
  expect(parentOf(spans, proposed)?.service).toBe('ai-responder');
  const scored = consumerOf(spans, 'escalation-decider', 'support.v1.MessageScored');
  expect(parentOf(spans, scored)?.service).toBe('sentiment-scorer');
  // The reply goes out from the decider's handling of the proposal or of the score (whichever came last).
  const reply = spanOf(spans, 'escalation-decider', `send ${Topics.outbound.name}`);
  expect(reply.kind).toBe(SpanKinds.producer);
  expect([proposed.spanId, scored.spanId]).toContain(reply.parentSpanId);
  expect(reply.statusCode).not.toBe(2);
  // Redis commands made while handling records are in the trace too.
  expect(spans.some((s) => s.scope.includes('ioredis') && s.service !== 'ingest')).toBe(true);
}

const repliedTo = (s: ReceivedSpan[]) =>
  s.some((x) => x.service === 'escalation-decider' && x.name === `send ${Topics.outbound.name}`);

describe('one customer message is one connected trace through every service it touched', () => {
  it('a question the AI answers, over HTTP: ingest → AI responder → sentiment scorer → escalation decider → the reply', async () => {
    const client = clientSpan();
    const text = 'How do I reset my password?';
    const { status, json } = await postInTrace(customerMessage(text), client.traceparent);
    expect(status).toBe(202);
    const conversationId = json.conversationId as string;

    // The reply, and every event of the story, carry the trace.
    await watcher.waitFor(
      Topics.outbound,
      (r) =>
        r.value.conversationId === conversationId &&
        r.value.kind === OutboundKind.AI_REPLY &&
        inTrace(r, client.traceId),
    );
    const kinds = [
      'customerMessageReceived',
      'aiReplyProposed',
      'messageScored',
      'aiReplyReleased',
    ];
    for (const kind of kinds)
      await watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId &&
          r.value.payload.case === kind &&
          inTrace(r, client.traceId),
      );

    const spans = await connectedTrace(
      client,
      ['ai-responder', 'sentiment-scorer', 'escalation-decider'],
      repliedTo,
    );
    expectOneConnectedTrace(spans, client, 'POST /v1/messages', text, conversationId);
    const request = spanOf(spans, 'ingest', 'POST /v1/messages');
    expect(request.kind).toBe(SpanKinds.server);
    expect(
      request.attributes['http.response.status_code'] ?? request.attributes['http.status_code'],
    ).toBe(202);
    expectAnsweredChain(spans);
  });

  it('a request for a person: … → escalation decider (and its model call) → router → the assignment', async () => {
    const client = clientSpan();
    const text = 'I want to talk to a human';
    const { status, json } = await postInTrace(customerMessage(text), client.traceparent);
    expect(status).toBe(202);
    const conversationId = json.conversationId as string;

    await watcher.waitFor(
      Topics.handoffAssignments,
      (r) => r.value.conversationId === conversationId && inTrace(r, client.traceId),
    );
    await watcher.waitFor(
      Topics.handoffRequests,
      (r) => r.value.conversationId === conversationId && inTrace(r, client.traceId),
    );

    const spans = await connectedTrace(
      client,
      ['ai-responder', 'sentiment-scorer', 'escalation-decider', 'router'],
      (s) =>
        s.some(
          (x) => x.service === 'router' && x.name === `send ${Topics.handoffAssignments.name}`,
        ) &&
        s.some((x) => x.service === 'escalation-decider' && x.attributes['gen_ai.operation.name']),
    );
    expectOneConnectedTrace(spans, client, 'POST /v1/messages', text, conversationId);

    // The decider hands off; the router consumes the handoff and publishes the assignment.
    const handoff = spans.find(
      (s) =>
        s.service === 'escalation-decider' &&
        s.kind === SpanKinds.producer &&
        s.attributes['support.event_type'] === 'support.v1.HandoffRequested',
    );
    expect(handoff).toBeDefined();
    const assigned = spanOf(spans, 'router', `send ${Topics.handoffAssignments.name}`);
    expect(assigned.kind).toBe(SpanKinds.producer);
    // Up from the assignment, the chain reaches ingest's request without a gap.
    const hops: string[] = [];
    for (let s: ReceivedSpan | undefined = assigned; s; s = parentOf(spans, s))
      if (hops.at(-1) !== s.service) hops.push(s.service);
    expect(hops[0]).toBe('router');
    expect(hops).toContain('escalation-decider');
    expect(hops.at(-1)).toBe('ingest');

    // The chat model's call for the briefing summary, a child of the decider's handling.
    const model = spans.find(
      (s) => s.service === 'escalation-decider' && s.attributes['gen_ai.operation.name'] === 'chat',
    )!;
    expect(model.kind).toBe(SpanKinds.client);
    expect(model.attributes['gen_ai.provider.name']).toBe('openai');
    expect(parentOf(spans, model)?.service).toBe('escalation-decider');
    expect(fakeLlm.requests.length).toBeGreaterThan(0);
  });

  it("a channel adapter's message on support.inbound continues the adapter's trace", async () => {
    const client = clientSpan();
    const text = 'How do I download invoices?';
    const message = customerMessage(text);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: Topics.inbound.name,
        messages: [
          {
            key: `${message.channel}:${message.externalConversationId}`,
            value: Buffer.from(
              toBinary(InboundMessageSchema, create(InboundMessageSchema, message)),
            ),
            headers: { traceparent: client.traceparent, tracestate: 'adapter=e2e' },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const [received] = await watcher.waitFor(
      Topics.events,
      (r) => r.value.payload.case === 'customerMessageReceived' && inTrace(r, client.traceId),
    );
    expect(received.headers['tracestate']).toBe('adapter=e2e');

    const spans = await connectedTrace(
      client,
      ['ai-responder', 'sentiment-scorer', 'escalation-decider'],
      repliedTo,
    );
    expectOneConnectedTrace(
      spans,
      client,
      `process ${Topics.inbound.name}`,
      text,
      received.value.conversationId,
    );
    expectAnsweredChain(spans);
    expect(receiver.refused).toEqual([]);
  });
});
