import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@support/service-kit';
import { Roster } from './db/roster.js';
import { LoadStore } from './load-store.js';

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class RouterController {
  constructor(
    private readonly roster: Roster,
    private readonly loads: LoadStore,
  ) {}

  /** The roster with each agent's current load, and how many handoffs wait. */
  @Get('agents')
  async agents() {
    const agents = await this.roster.all();
    const loads = await this.loads.loads(agents.map((a) => a.id));
    return {
      agents: agents.map((a) => ({
        ...a,
        load: loads.get(a.id) ?? 0,
        available: a.active ? Math.max(a.maxConcurrent - (loads.get(a.id) ?? 0), 0) : 0,
      })),
      queued: await this.loads.queueLength(),
    };
  }
}
