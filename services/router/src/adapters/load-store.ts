import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@support/service-kit';
import type { HandoffTarget } from '../domain/handoff.js';

/**
 * Agents' loads, the waiting queue and the deadlines to accept in Redis,
 * shared by every router replica. Every change that could over-assign runs as one Lua script, so
 * two replicas can never both take an agent's last free slot.
 *
 *   router:load:<agentId>   SET of the handoff ids the agent holds
 *   router:holder:<handoff> the agent id holding the handoff (makes assigning idempotent)
 *   router:queue            ZSET of waiting handoff ids, by queueScore
 *   router:queue:items      HASH handoff id -> HandoffTarget JSON (kept until the assignment is published)
 *   router:queue:claimed    ZSET of handoffs taken from the queue whose assignment is not published yet, by time
 *   router:queue:announcing ZSET of handoffs queued whose "you're in the queue" is not committed yet, by time
 *   router:accept:due       ZSET of assignments waiting for the agent to accept ("<handoff> <agent>"), by deadline
 *   router:accept:items     HASH the same members -> PendingAcceptance JSON
 *   router:accept:lease:<handoff>:<agent> the replica publishing that assignment's timeout (expires)
 */
export const Keys = {
  load: (agentId: string) => `router:load:${agentId}`,
  holder: (handoffId: string) => `router:holder:${handoffId}`,
  queue: 'router:queue',
  items: 'router:queue:items',
  claimed: 'router:queue:claimed',
  announcing: 'router:queue:announcing',
  acceptDue: 'router:accept:due',
  acceptItems: 'router:accept:items',
  acceptLease: (handoffId: string, agentId: string) =>
    `router:accept:lease:${handoffId}:${agentId}`,
  /** The running average of how long agents hold a conversation, in seconds. */
  handleAverage: 'router:stats:handle_seconds',
} as const;

/** An assignment the agent has not accepted yet, and until when they can. */
export interface PendingAcceptance {
  conversationId: string;
  handoffId: string;
  agentId: string;
  /** RFC 3339. */
  assignedAt: string;
  /** RFC 3339: the deadline. */
  acceptBy: string;
  /** Of the AgentAssigned record, for the timeout's headers. */
  correlationId: string;
  causationId: string;
}

const acceptMember = (handoffId: string, agentId: string) => `${handoffId} ${agentId}`;

/** Returns the agent holding the handoff: the one it already had, else ARGV[2] if under ARGV[3]; nil when full. */
const ASSIGN = `
local holder = redis.call('GET', KEYS[2])
if holder then return holder end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) then return false end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return ARGV[2]`;

/** Takes a waiting handoff for an agent: 'ok', 'full' (agent at capacity) or 'gone' (no longer waiting). */
const CLAIM = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'gone' end
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 'gone'
end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 0 and redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[2])
return 'ok'`;

/**
 * Queues a handoff unless an agent already holds it; 1 when it waits. The
 * item is replaced: a handoff queued again after agents passed on it carries
 * who they were. Its place (score) is kept.
 */
const ENQUEUE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1`;

/**
 * How long a queued handoff whose notice is not committed yet is kept from the others: past it,
 * the process that queued it is taken to have died, and its record's next handling queues it again.
 */
export const ANNOUNCE_GRACE_MS = 10_000;

/** Frees the agent's slot; forgets the holder only if it is this agent. */
const RELEASE = `
local removed = redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return removed`;

@Injectable()
export class LoadStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async loads(agentIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (agentIds.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const id of agentIds) pipeline.scard(Keys.load(id));
    const results = (await pipeline.exec()) ?? [];
    agentIds.forEach((id, i) => {
      const [err, count] = results[i] ?? [null, 0];
      if (err) throw err;
      out.set(id, Number(count));
    });
    return out;
  }

  async holder(handoffId: string): Promise<string | null> {
    return this.redis.get(Keys.holder(handoffId));
  }

  /** The agent now holding the handoff (possibly another, if it was assigned before), or null if the agent is full. */
  async assign(handoffId: string, agentId: string, maxConcurrent: number): Promise<string | null> {
    const result = await this.redis.eval(
      ASSIGN,
      2,
      Keys.load(agentId),
      Keys.holder(handoffId),
      handoffId,
      agentId,
      maxConcurrent,
    );
    return typeof result === 'string' ? result : null;
  }

  async release(agentId: string, handoffId: string): Promise<boolean> {
    return (
      Number(
        await this.redis.eval(
          RELEASE,
          2,
          Keys.load(agentId),
          Keys.holder(handoffId),
          handoffId,
          agentId,
        ),
      ) === 1
    );
  }

  /**
   * Queues the handoff (unless an agent holds it), held back from serveQueue until `announced`:
   * the customer's "you're in the queue" goes out in the reaction's transaction, and a replica
   * that served the handoff before that committed would put "Ada joined" ahead of it on the log.
   */
  async enqueue(target: HandoffTarget, score: number): Promise<boolean> {
    const queued = await this.redis.eval(
      ENQUEUE,
      4,
      Keys.queue,
      Keys.items,
      Keys.holder(target.handoffId),
      Keys.announcing,
      target.handoffId,
      score,
      JSON.stringify(target),
      Date.now(),
    );
    return Number(queued) === 1;
  }

  /** The queued notice of the handoff is out: any replica may serve it now. */
  async announced(handoffId: string): Promise<void> {
    await this.redis.zrem(Keys.announcing, handoffId);
  }

  async claim(
    handoffId: string,
    agentId: string,
    maxConcurrent: number,
  ): Promise<'ok' | 'full' | 'gone'> {
    const result = await this.redis.eval(
      CLAIM,
      4,
      Keys.queue,
      Keys.claimed,
      Keys.load(agentId),
      Keys.holder(handoffId),
      handoffId,
      agentId,
      maxConcurrent,
      Date.now(),
    );
    return result === 'ok' || result === 'full' ? result : 'gone';
  }

  /** The assignment of a claimed handoff is out: forget the waiting item. */
  async settled(handoffId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(Keys.claimed, handoffId)
      .hdel(Keys.items, handoffId)
      .zrem(Keys.announcing, handoffId)
      .exec();
  }

  /** A waiting handoff is no longer wanted (its conversation ended). */
  async dropQueued(handoffId: string): Promise<boolean> {
    const result = await this.redis
      .multi()
      .zrem(Keys.queue, handoffId)
      .hdel(Keys.items, handoffId)
      .zrem(Keys.announcing, handoffId)
      .exec();
    return Number(result?.[0]?.[1] ?? 0) === 1;
  }

  /**
   * The first waiting handoffs, in queue order, without those whose queued notice is not out yet
   * (for up to ANNOUNCE_GRACE_MS) but `mine`: the one the caller's own transaction queued.
   */
  async waiting(limit: number, mine?: string): Promise<HandoffTarget[]> {
    const [[idsErr, ids], [heldErr, held]] = ((await this.redis
      .multi()
      .zrange(Keys.queue, 0, limit - 1)
      .zrangebyscore(Keys.announcing, Date.now() - ANNOUNCE_GRACE_MS, '+inf')
      .exec()) ?? []) as [Error | null, string[]][];
    if (idsErr || heldErr) throw idsErr ?? heldErr;
    const announcing = new Set(held);
    return this.items(ids.filter((id) => id === mine || !announcing.has(id)));
  }

  /** Handoffs claimed from the queue more than `olderThanMs` ago whose assignment was never confirmed published. */
  async stalledClaims(olderThanMs: number): Promise<HandoffTarget[]> {
    const ids = await this.redis.zrangebyscore(Keys.claimed, 0, Date.now() - olderThanMs);
    return this.items(ids);
  }

  /** The handoff's place in line (1 = next), or 0 when it is not waiting. */
  async position(handoffId: string): Promise<number> {
    const rank = await this.redis.zrank(Keys.queue, handoffId);
    return rank === null ? 0 : rank + 1;
  }

  /** The recent average time an agent holds a conversation, in seconds (undefined before any). */
  async averageHandleSeconds(): Promise<number | undefined> {
    const v = await this.redis.get(Keys.handleAverage);
    return v === null ? undefined : Number(v);
  }

  async setAverageHandleSeconds(seconds: number): Promise<void> {
    await this.redis.set(Keys.handleAverage, String(Math.round(seconds)));
  }

  /** Claims the n-th wait update of a handoff, so that one replica sends it once. */
  async claimUpdate(handoffId: string, n: number): Promise<boolean> {
    return (
      (await this.redis.set(`router:update:${handoffId}:${n}`, '1', 'EX', 86_400, 'NX')) === 'OK'
    );
  }

  async queueLength(): Promise<number> {
    return this.redis.zcard(Keys.queue);
  }

  /**
   * Keeps the deadline of an assignment the agent has to accept. A repeated
   * call (a redelivery) keeps the first deadline.
   */
  async awaitAcceptance(pending: PendingAcceptance): Promise<void> {
    const member = acceptMember(pending.handoffId, pending.agentId);
    await this.redis
      .multi()
      .zadd(Keys.acceptDue, 'NX', Date.parse(pending.acceptBy), member)
      .hsetnx(Keys.acceptItems, member, JSON.stringify(pending))
      .exec();
  }

  /** The assignment was accepted or ended: no deadline any more. */
  async acceptanceSettled(handoffId: string, agentId: string): Promise<void> {
    const member = acceptMember(handoffId, agentId);
    await this.redis.multi().zrem(Keys.acceptDue, member).hdel(Keys.acceptItems, member).exec();
  }

  /** The assignment's deadline, if the agent still has to accept. */
  async pendingAcceptance(
    handoffId: string,
    agentId: string,
  ): Promise<PendingAcceptance | undefined> {
    const v = await this.redis.hget(Keys.acceptItems, acceptMember(handoffId, agentId));
    return v === null ? undefined : (JSON.parse(v) as PendingAcceptance);
  }

  /** Assignments whose deadline to accept has passed, the earliest first. */
  async overdueAcceptances(nowMs: number, limit: number): Promise<PendingAcceptance[]> {
    const members = await this.redis.zrangebyscore(Keys.acceptDue, 0, nowMs, 'LIMIT', 0, limit);
    if (members.length === 0) return [];
    const values = await this.redis.hmget(Keys.acceptItems, ...members);
    const out: PendingAcceptance[] = [];
    const orphans: string[] = [];
    members.forEach((m, i) => {
      const v = values[i];
      if (v) out.push(JSON.parse(v) as PendingAcceptance);
      else orphans.push(m);
    });
    if (orphans.length) await this.redis.zrem(Keys.acceptDue, ...orphans);
    return out;
  }

  /**
   * Takes the publication of an assignment's timeout for this replica for
   * `seconds`: false while another holds it. If the holder dies first, the
   * lease runs out and another replica publishes (the same event id).
   */
  async leaseTimeout(handoffId: string, agentId: string, seconds: number): Promise<boolean> {
    return (
      (await this.redis.set(Keys.acceptLease(handoffId, agentId), '1', 'EX', seconds, 'NX')) ===
      'OK'
    );
  }

  /** Forgets every load, holder, waiting handoff and acceptance deadline (for a rebuild from the log). */
  async clearAll(): Promise<number> {
    let removed = await this.redis.del(
      Keys.queue,
      Keys.items,
      Keys.claimed,
      Keys.acceptDue,
      Keys.acceptItems,
    );
    for (const pattern of ['router:load:*', 'router:holder:*']) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) removed += await this.redis.del(...keys);
      } while (cursor !== '0');
    }
    return removed;
  }

  /** Sets the handoffs an agent holds (and their holders), as rebuilt from the log. */
  async restoreLoad(agentId: string, handoffIds: readonly string[]): Promise<void> {
    if (handoffIds.length === 0) return;
    const tx = this.redis.multi().sadd(Keys.load(agentId), ...handoffIds);
    for (const id of handoffIds) tx.set(Keys.holder(id), agentId);
    await tx.exec();
  }

  private async items(ids: string[]): Promise<HandoffTarget[]> {
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(Keys.items, ...ids);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as HandoffTarget);
  }
}
