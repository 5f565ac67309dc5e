import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import { presenceChange, presenceProblem } from '../domain/presence.js';
import { PresenceStore } from './presence.js';
import { QueueServer } from './queue-server.js';

/**
 * Presence as desks report it on the agent.presence topic (key = agent id),
 * kept in the same Redis keys as the HTTP heartbeat: online or away for the
 * rest of ROUTER_PRESENCE_TTL_S from when it was reported, offline at once.
 * An agent coming online serves waiting handoffs at once. A record without
 * an agent id, with an unknown status or an unreadable time goes to
 * agent.presence.dlq.
 */
@Injectable()
export class PresenceFeed implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    private readonly presence: PresenceStore,
    private readonly queue: QueueServer,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'presence',
      topic: Topics.presence,
      // A new group reads what the topic keeps; reports older than the TTL say nothing and are skipped.
      fromBeginning: true,
      validate: presenceProblem,
      handle: async ({ value, raw }) => {
        const change = presenceChange(
          value,
          Number(raw.timestamp),
          this.config.ROUTER_PRESENCE_TTL_S,
          Date.now(),
        );
        if (!change) return;
        const [before] = (await this.presence.of([change.agentId])).values();
        await this.presence.set(change.agentId, change.status, change.ttlSeconds);
        if (change.status === 'online' && before !== 'online') {
          this.logger.log('agent online', { agentId: change.agentId });
          await this.queue.serveQueue({ correlationId: '', causationId: '' });
        }
      },
    });
  }
}
