// Open-loop (paced) runs for bench/pipeline.mjs: every message goes out at its scheduled time
// (start + i / rate), whether or not the earlier ones have been answered, and each latency is
// counted from that scheduled time, so that a slow pipeline cannot slow the sender down and hide
// its own queueing (no coordinated omission). The sender's own lateness is reported beside.
import { createRequire } from 'node:module';
import { followTopic } from './follow.mjs';

const require = createRequire(import.meta.url);
const { Topics } = require('@support/bus');
const {
  fromBinary,
  HandoffRequestSchema,
  OutboundMessageSchema,
  OutboundKind,
} = require('@support/contracts');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** One latency threshold of the sustained search: a step passes while its p99 stays under it. */
export const P99_LIMIT_MS = 1000;

/**
 * What a paced run waits for, message by message: a `question` waits for its AI reply on
 * support.outbound (another reply kind, e.g. a handoff notice, is an outcome of another kind);
 * a `person` (an explicit request for a person) waits for its HandoffRequest on handoff.requests.
 */
export class PacedRun {
  at = [];
  kind = [];
  latency = [];
  outcome = [];
  lag = [];
  errors = [];
  byConversation = new Map();
  /** Outcomes seen before the POST that caused them answered (never in practice, but possible). */
  early = new Map();

  schedule(at, kind) {
    this.at.push(at);
    this.kind.push(kind);
    return this.at.length - 1;
  }

  posted(i, conversationId) {
    const key = `${this.kind[i]}:${conversationId}`;
    const early = this.early.get(key);
    if (early === undefined) this.byConversation.set(key, i);
    else {
      this.early.delete(key);
      this.settle(i, early.success, early.t);
    }
  }

  failed(i, reason) {
    if (this.outcome[i] !== undefined) return;
    this.outcome[i] = 'error';
    this.errors.push(reason);
  }

  arrived(kind, conversationId, success, t = performance.now()) {
    const key = `${kind}:${conversationId}`;
    const i = this.byConversation.get(key);
    if (i === undefined) {
      if (!this.early.has(key)) this.early.set(key, { success, t });
      return;
    }
    this.byConversation.delete(key);
    this.settle(i, success, t);
  }

  settle(i, success, t) {
    if (this.outcome[i] !== undefined) return;
    this.outcome[i] = success ? 'ok' : 'other';
    if (success) this.latency[i] = t - this.at[i];
  }

  /** Messages without an outcome yet. */
  open() {
    let n = 0;
    for (let i = 0; i < this.at.length; i++) if (this.outcome[i] === undefined) n++;
    return n;
  }

  /** Messages whose latency is already known to be `ms` or more (answered that late, or still open). */
  late(ms, now = performance.now()) {
    let n = 0;
    for (let i = 0; i < this.at.length; i++)
      if (this.latency[i] >= ms || (this.outcome[i] === undefined && now - this.at[i] >= ms)) n++;
    return n;
  }

  /** Figures of the messages of one kind: latencies of the answered ones, and the other counts. */
  figures(kind) {
    const idx = this.at.map((_, i) => i).filter((i) => this.kind[i] === kind);
    const count = (o) => idx.filter((i) => this.outcome[i] === o).length;
    const s = idx
      .filter((i) => this.outcome[i] === 'ok')
      .map((i) => this.latency[i])
      .sort((a, b) => a - b);
    return {
      sent: idx.length,
      answered: s.length,
      others: count('other'),
      errors: count('error'),
      missing: count(undefined),
      p50: pct(s, 50),
      p99: pct(s, 99),
      max: s.at(-1),
    };
  }

  /** How late the sender started its POSTs after their scheduled times (p99, max). */
  senderLag() {
    const s = [...this.lag].sort((a, b) => a - b);
    return { p99: pct(s, 99) ?? 0, max: s.at(-1) ?? 0 };
  }
}

/**
 * Follows support.outbound and handoff.requests for the paced runs; `target` is the run the
 * outcomes go to (set it before each run; records of earlier runs find nobody waiting).
 */
export async function followOutcomes(brokers) {
  const outcomes = { target: undefined };
  const replies = await followTopic(brokers, Topics.outbound.name, ({ value }) => {
    const m = fromBinary(OutboundMessageSchema, value);
    if (m.inReplyTo !== '')
      outcomes.target?.arrived('question', m.conversationId, m.kind === OutboundKind.AI_REPLY);
  });
  const handoffs = await followTopic(brokers, Topics.handoffRequests.name, ({ value }) =>
    outcomes.target?.arrived(
      'person',
      fromBinary(HandoffRequestSchema, value).conversationId,
      true,
    ),
  );
  await sleep(1000);
  outcomes.stop = async () => {
    await replies.stop();
    await handoffs.stop();
  };
  return outcomes;
}

/**
 * Sends `count` messages at `rate` per second, each at its scheduled time, without waiting for
 * earlier POSTs (open loop). `message(i)` gives `{ text, kind }`; `post(text, kind)` resolves with
 * the conversation id. `stop()`, checked between sends, ends the run early. Resolves once every
 * POST sent has answered, with how many went out and over how long.
 */
export async function pace({ rate, count, message, post, run, stop = () => false }) {
  const start = performance.now() + 20;
  const inflight = new Set();
  let i = 0;
  while (i < count && !stop()) {
    const now = performance.now();
    const due = Math.min(count, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const { text, kind } = message(i);
      const idx = run.schedule(start + (i * 1000) / rate, kind);
      run.lag.push(Math.max(0, now - run.at[idx]));
      const sent = post(text, kind).then(
        (conversationId) => run.posted(idx, conversationId),
        (err) => run.failed(idx, err.message),
      );
      inflight.add(sent);
      sent.finally(() => inflight.delete(sent));
    }
    await sleep(Math.max(0, start + (i * 1000) / rate - performance.now()));
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(inflight);
  return { sent: i, seconds };
}

/** Waits until every message of the run has an outcome, or `ms` has passed. */
export async function drain(run, ms) {
  const deadline = performance.now() + ms;
  while (run.open() > 0 && performance.now() < deadline) await sleep(100);
}

/**
 * `stop` for `pace`: true once more than 1% of the `count` planned messages are already known to
 * take `P99_LIMIT_MS` or more, so that the step's p99 cannot stay under it (checked every 100 ms).
 */
export function p99Breached(run, count) {
  const limit = Math.floor(count / 100) + 1;
  let checked = 0;
  let breached = false;
  return () => {
    const now = performance.now();
    if (breached || now - checked < 100) return breached;
    checked = now;
    breached = run.late(P99_LIMIT_MS, now) >= limit;
    return breached;
  };
}

/**
 * Steps the paced rate of questions up (`steps`, msg/s, `stepSeconds` each) and stops at the
 * first step whose ingest -> AI reply p99 reaches P99_LIMIT_MS, or that loses answers (no answer
 * within `drainMs`, or a POST that failed). `idle()` runs after each step, so that a step's
 * backlog does not weigh on the next. Resolves with the rows and the highest passing rate.
 */
export async function sustainedRate({ steps, stepSeconds, drainMs, outcomes, post, texts, idle }) {
  const rows = [];
  let best;
  for (const rate of steps) {
    const run = new PacedRun();
    outcomes.target = run;
    const count = Math.max(1, Math.round(rate * stepSeconds));
    const message = (i) => ({ text: texts[i % texts.length], kind: 'question' });
    const stop = p99Breached(run, count);
    const { sent, seconds } = await pace({ rate, count, message, post, run, stop });
    await drain(run, drainMs);
    const f = run.figures('question');
    const lost = f.missing + f.errors;
    const pass = sent === count && lost === 0 && f.p99 < P99_LIMIT_MS;
    rows.push({ rate, planned: count, seconds, ...f, lost, pass, lag: run.senderLag() });
    outcomes.target = undefined;
    await idle();
    if (!pass) break;
    best = rate;
  }
  return { rows, best };
}
