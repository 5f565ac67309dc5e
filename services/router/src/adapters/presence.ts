import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CONFIG, REDIS } from '@support/service-kit';
import type { Config } from '../config.js';
import type { PresenceStatus } from '../domain/presence.js';

export { PRESENCE_STATUSES, type PresenceStatus } from '../domain/presence.js';

/**
 * Agents' presence in Redis, shared by every router replica:
 * `router:presence:<agentId>` holds "online" or "away" and expires unless the
 * agent's desk renews it (a heartbeat); an expired or missing key is offline.
 * Only online agents get new handoffs (when ROUTER_PRESENCE=required).
 */
@Injectable()
export class PresenceStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  static key(agentId: string): string {
    return `router:presence:${agentId}`;
  }

  /**
   * Sets (or renews) an agent's presence for `ttlSeconds` (ROUTER_PRESENCE_TTL_S
   * by default); offline removes it at once.
   */
  async set(
    agentId: string,
    status: PresenceStatus,
    ttlSeconds = this.config.ROUTER_PRESENCE_TTL_S,
  ): Promise<void> {
    if (status === 'offline') await this.redis.del(PresenceStore.key(agentId));
    else await this.redis.set(PresenceStore.key(agentId), status, 'EX', Math.max(1, ttlSeconds));
  }

  async of(agentIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    const out = new Map<string, PresenceStatus>();
    if (agentIds.length === 0) return out;
    const values = await this.redis.mget(...agentIds.map((id) => PresenceStore.key(id)));
    agentIds.forEach((id, i) => {
      const v = values[i];
      out.set(id, v === 'online' || v === 'away' ? v : 'offline');
    });
    return out;
  }

  /** Whether presence decides who gets new handoffs (false: everyone on duty counts as online). */
  get required(): boolean {
    return this.config.ROUTER_PRESENCE === 'required';
  }
}
