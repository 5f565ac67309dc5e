import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request the fake provider received, its body parsed as JSON. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/**
 * What the fake provider does with one request: answer with the assistant's
 * text (after `delayMs`), answer with a raw status and body, or never answer.
 */
export type FakeReply =
  { text: string; delayMs?: number } | { status: number; body: unknown } | { hang: true };

export type ReplyFn = (request: ReceivedRequest) => FakeReply;

/**
 * A local stand-in for an LLM provider over real HTTP: the OpenAI Chat
 * Completions API (POST /v1/chat/completions) and the Anthropic Messages API
 * (POST /v1/messages), answering with each API's response shape. It records
 * every request it receives. `close()` destroys open sockets, hanging ones
 * included, so that a test run can exit.
 */
export class FakeLlmServer {
  readonly requests: ReceivedRequest[] = [];
  private reply: ReplyFn = () => ({ text: '{"answerable": false}' });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((req, res) => void this.handle(req, res));

  private constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer();
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** e.g. http://127.0.0.1:40123 */
  get origin(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Sets how the next requests are answered and forgets the requests received so far. */
  respondWith(reply: ReplyFn | FakeReply): void {
    this.reply = typeof reply === 'function' ? reply : () => reply;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // recorded as text
    }
    const path = (req.url ?? '').split('?')[0];
    const request: ReceivedRequest = { method: req.method ?? '', path, headers: req.headers, body };
    this.requests.push(request);

    const api =
      req.method === 'POST' && path.endsWith('/chat/completions')
        ? 'openai'
        : req.method === 'POST' && path.endsWith('/messages')
          ? 'anthropic'
          : undefined;
    if (!api) return send(res, 404, { error: { message: `no route ${req.method} ${path}` } });

    const reply = this.reply(request);
    if ('hang' in reply) return;
    if ('status' in reply) return send(res, reply.status, reply.body);
    const model = (body as { model?: string } | undefined)?.model ?? 'fake-model';
    const payload =
      api === 'openai' ? openAiCompletion(model, reply.text) : anthropicMessage(model, reply.text);
    if (!reply.delayMs) return send(res, 200, payload);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed) send(res, 200, payload);
    }, reply.delayMs);
    this.timers.add(timer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

let sequence = 0;

/** The OpenAI Chat Completions response shape. */
function openAiCompletion(model: string, text: string) {
  sequence++;
  return {
    id: `chatcmpl-fake-${sequence}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  };
}

/** The Anthropic Messages response shape. */
function anthropicMessage(model: string, text: string) {
  sequence++;
  return {
    id: `msg_fake_${sequence}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 20 },
  };
}
