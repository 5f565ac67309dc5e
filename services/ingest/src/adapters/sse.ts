import type { Request, Response } from 'express';
import type { OutboundHistory } from './outbound-history.js';

/**
 * Server-sent events of a conversation's outbound messages (AI replies, system messages, agent
 * replies): history first, then live, each message once. Resumes after the Last-Event-ID header
 * (the browser's own reconnection) or `resumeAfter` (a client that opens a new stream). With
 * `endAt` (ms since the epoch) the stream ends then: the credential it was opened with has expired.
 */
export async function streamOutbound(
  outbound: OutboundHistory,
  conversationId: string,
  req: Request,
  res: Response,
  opts: { resumeAfter?: string; endAt?: number } = {},
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.flushHeaders();
  const sent = new Set<string>();
  const send = (m: { messageId: string }) => {
    if (sent.has(m.messageId)) return;
    sent.add(m.messageId);
    res.write(`id: ${m.messageId}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`);
  };
  const buffered: { messageId: string }[] = [];
  let live = false;
  const unsubscribe = await outbound.subscribe(conversationId, (m) =>
    live ? send(m) : buffered.push(m),
  );
  const history = await outbound.history(conversationId);
  const lastEventId = req.headers['last-event-id'];
  const after = typeof lastEventId === 'string' && lastEventId ? lastEventId : opts.resumeAfter;
  const resumeAt = after ? history.findIndex((m) => m.messageId === after) : -1;
  for (const m of history.slice(resumeAt + 1)) send(m);
  for (const m of history.slice(0, resumeAt + 1)) sent.add(m.messageId);
  for (const m of buffered) send(m);
  live = true;
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const end =
    opts.endAt === undefined
      ? undefined
      : setTimeout(() => res.end(), Math.max(0, opts.endAt - Date.now()));
  req.on('close', () => {
    clearInterval(keepAlive);
    if (end) clearTimeout(end);
    void unsubscribe();
  });
}
