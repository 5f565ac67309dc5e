import { connect } from 'node:net';

/** A request written byte for byte, so that it can carry what HTTP clients refuse to send. */
export interface RawRequest {
  method: string;
  /** The request target as sent (path and query). */
  target: string;
  /** Header names and values; values are written as latin1 (one byte per character). */
  headers: readonly (readonly [string, string])[];
  body?: Buffer;
}

export interface RawResponse {
  /** The status code; 0 when the connection closed (or timed out) without a response. */
  status: number;
  /** The response's head as received (status line and headers). */
  head: string;
  /** The start of the body (at most 2 KB). */
  body: string;
  /** Why there was no response, when status is 0. */
  error?: string;
}

const MAX_BODY = 2048;

/**
 * Sends one HTTP/1.1 request over a fresh connection (`Connection: close`)
 * and reads the response. An event stream is cut off once its head arrives.
 */
export function sendRaw(
  origin: { host: string; port: number },
  req: RawRequest,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(origin.port, origin.host);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const head = end < 0 ? raw : raw.slice(0, end);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({
        status,
        head,
        body: end < 0 ? '' : raw.slice(end + 4, end + 4 + MAX_BODY),
        ...(status === 0 ? { error: error ?? 'the connection closed without a response' } : {}),
      });
    };
    const timer = setTimeout(() => finish(`no response within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (size < 64 * 1024) chunks.push(chunk);
      size += chunk.length;
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && /^content-type:\s*text\/event-stream/im.test(text.slice(0, end))) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err) => finish(err.message));
    const lines = [`${req.method} ${req.target} HTTP/1.1`, `host: ${origin.host}:${origin.port}`];
    for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
    const chunked = req.headers.some(
      ([k, v]) => k.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v),
    );
    if (req.body && !chunked) lines.push(`content-length: ${req.body.length}`);
    lines.push('connection: close', '', '');
    const payload = req.body
      ? chunked
        ? Buffer.concat([
            Buffer.from(`${req.body.length.toString(16)}\r\n`),
            req.body,
            Buffer.from('\r\n0\r\n\r\n'),
          ])
        : req.body
      : Buffer.alloc(0);
    socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), payload]));
  });
}
