import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ConversationState } from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { SnapshotStore } from '@support/stream';
import type { Config } from '../config.js';
import { isQuietDue, quietDueAt, resolveByQuietWindow } from '../domain/closing.js';
import { Closer } from './closer.js';

/** The conversations in their quiet window, scored by when it ends (ms since the epoch). */
export const QUIET_KEY = 'ingest:quiet';

/**
 * How long a replica holds a conversation it claimed: if it dies meanwhile,
 * the conversation is due again after this and another replica takes it.
 */
const LEASE_MS = 60_000;
/** How many due conversations one sweep takes at most. */
const BATCH = 100;

/** Claims a due member: moves its score to the lease's end, only if it is due (atomic: one replica wins). */
const CLAIM = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0`;

/** Ends a claim: removes the member, or sets it to a new due time, only while the lease is still its score. */
const RELEASE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  end
  return 1
end
return 0`;

/**
 * The quiet window: a conversation whose last word is the AI's answer, which
 * the AI holds, and which nobody touches for QUIET_WINDOW_SECONDS is resolved
 * as the AI's, assumed (resolved_by "quiet_window"), with a CSAT request.
 *
 * Ingest's log consumer keeps the candidates in a Redis sorted set shared by
 * the replicas (track), adding a conversation when the AI's answer lands and
 * removing it on anything that ends the wait (a customer message, a handoff,
 * a resolution). Every replica sweeps the set every QUIET_SWEEP_MS, claims
 * each due conversation atomically (one replica wins), checks it again
 * against ingest's snapshot and resolves it. The resolution's ids follow
 * from the conversation's state, so a redelivery or a second claim after a
 * lease ran out appends nothing new.
 */
@Injectable()
export class QuietWindow implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly store: SnapshotStore,
    private readonly closer: Closer,
    private readonly logger: JsonLogger,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private get windowMs(): number {
    return this.config.QUIET_WINDOW_SECONDS * 1000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.logger.error('quiet window sweep failed', { error: (err as Error).message }),
        )
        .finally(() => {
          this.sweeping = undefined;
        });
    }, this.config.QUIET_SWEEP_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Keeps the candidate set up to date with a log event's effect on the conversation. */
  async track(before: ConversationState, after: ConversationState): Promise<void> {
    const due = quietDueAt(after, this.windowMs);
    if (due !== undefined) {
      // Only ever later: a replica's claim (a lease ending later still) is not undone by a late event.
      await this.redis.zadd(QUIET_KEY, 'GT', due, after.conversationId);
    } else if (quietDueAt(before, this.windowMs) !== undefined) {
      await this.redis.zrem(QUIET_KEY, after.conversationId);
    }
  }

  /** Resolves the conversations whose quiet window has passed; returns how many this replica resolved. */
  async sweep(now = Date.now()): Promise<number> {
    const due = await this.redis.zrangebyscore(QUIET_KEY, '-inf', now, 'LIMIT', 0, BATCH);
    let resolved = 0;
    for (const conversationId of due) {
      const lease = now + LEASE_MS;
      const claimed = await this.redis.eval(CLAIM, 1, QUIET_KEY, conversationId, now, lease);
      if (claimed !== 1) continue; // another replica has it
      try {
        if (await this.settle(conversationId, lease)) resolved++;
      } catch (err) {
        // The lease runs out and the conversation is due again then.
        this.logger.error('quiet window resolution failed', {
          conversationId,
          error: (err as Error).message,
        });
      }
    }
    return resolved;
  }

  private async settle(conversationId: string, lease: number): Promise<boolean> {
    const state = await this.store.state(conversationId);
    if (!isQuietDue(state, this.windowMs, Date.now())) {
      // The wait ended (or moved on) meanwhile: forget it, or keep it for its new due time.
      const due = quietDueAt(state, this.windowMs);
      await this.redis.eval(RELEASE, 1, QUIET_KEY, conversationId, lease, due ?? '');
      return false;
    }
    const appended = await this.closer.close(resolveByQuietWindow(state));
    await this.redis.eval(RELEASE, 1, QUIET_KEY, conversationId, lease, '');
    return appended;
  }
}
