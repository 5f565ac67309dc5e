import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Put,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import {
  ApiKeyGuard,
  apiKeyActor,
  AuditTrail,
  invalidInput,
  parseInput,
} from '@support/service-kit';
import {
  agentFacts,
  AGENT_SHOWN,
  presenceChange,
  putChange,
  type AuditedChange,
} from '../domain/audit.js';
import {
  agentIdSchema,
  agentInputSchema,
  agentPatchSchema,
  splitSkills,
  type AgentInput,
} from '../domain/directory.js';
import type { AgentRow } from './db/schema.js';
import { Roster, UnknownNames } from './db/roster.js';
import { LoadStore } from './load-store.js';
import { PRESENCE_STATUSES, PresenceStore, type PresenceStatus } from './presence.js';
import { QueueServer } from './queue-server.js';

const presenceInput = z.strictObject({ status: z.enum(PRESENCE_STATUSES) });

/** An agent as the API shows it: skills with their levels, as they are written. */
function present(a: AgentRow, load: number, presence: PresenceStatus) {
  return {
    id: a.id,
    name: a.name,
    team: a.team,
    email: a.email,
    skills: a.skills.map((name) => ({ name, level: a.skillLevels[name] ?? 3 })),
    languages: a.languages,
    maxConcurrent: a.maxConcurrent,
    active: a.active,
    workingHours: a.workingHours ?? null,
    timeZone: a.timeZone,
    presence,
    load,
    available: a.active ? Math.max(a.maxConcurrent - load, 0) : 0,
  };
}

/** The skills as the request wrote them (for the issues' field names), if it named them. */
const skillsWritten = (body: unknown): unknown[] | undefined => {
  const skills = (body as { skills?: unknown } | null)?.skills;
  return Array.isArray(skills) ? skills : undefined;
};

/** Records a change on admin.audit, as made by the request's API key; nothing when nothing changed. */
export async function recordChange(
  audit: AuditTrail,
  authorization: string | undefined,
  resource: { resourceType: string; resourceId: string },
  change: AuditedChange | undefined,
): Promise<void> {
  if (!change) return;
  await audit.record({ actor: apiKeyActor(authorization), ...resource, ...change });
}

/**
 * The agents directory's admin API (teams and skills: vocabulary.controller.ts).
 * Every route needs `Authorization: Bearer` with a key from ROUTER_API_KEYS;
 * invalid input gets a 400 naming the field. Every change is recorded on
 * admin.audit, with the key's fingerprint as the actor.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class RouterController {
  constructor(
    private readonly roster: Roster,
    private readonly loads: LoadStore,
    private readonly presence: PresenceStore,
    private readonly queue: QueueServer,
    private readonly audit: AuditTrail,
  ) {}

  /** The roster with each agent's current load, and how many handoffs wait. */
  @Get('agents')
  async agents() {
    const agents = await this.roster.all();
    const ids = agents.map((a) => a.id);
    const [loads, presence] = await Promise.all([this.loads.loads(ids), this.presence.of(ids)]);
    return {
      agents: agents.map((a) => present(a, loads.get(a.id) ?? 0, presence.get(a.id) ?? 'offline')),
      queued: await this.loads.queueLength(),
    };
  }

  @Get('agents/:id')
  async agent(@Param('id') id: string) {
    const row = await this.roster.get(id);
    if (!row) throw new NotFoundException(`no agent "${id}"`);
    const [loads, presence] = await Promise.all([this.loads.loads([id]), this.presence.of([id])]);
    return present(row, loads.get(id) ?? 0, presence.get(id) ?? 'offline');
  }

  /**
   * The agent's desk reports presence: online, away or offline. Repeat it as a
   * heartbeat within ROUTER_PRESENCE_TTL_S, or the agent counts as offline.
   * Coming online serves waiting handoffs at once.
   */
  @Put('agents/:id/presence')
  async setPresence(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const { status } = parseInput(presenceInput, body);
    const row = await this.roster.get(id);
    if (!row) throw new NotFoundException(`no agent "${id}"`);
    const [before] = (await this.presence.of([id])).values();
    await this.presence.set(id, status);
    await this.record(authorization, 'agent', id, presenceChange(before, status));
    if (status === 'online' && before !== 'online')
      await this.queue.serveQueue({ correlationId: '', causationId: '' });
    return this.agent(id);
  }

  /** Creates or replaces an agent. More capacity may serve waiting handoffs at once. */
  @Put('agents/:id')
  async putAgent(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    parseInput(agentIdSchema, id, 'id');
    const input = parseInput(agentInputSchema, body);
    const before = await this.roster.get(id);
    return this.save(id, input, { before, authorization, written: skillsWritten(body) });
  }

  /** Changes some fields of an agent, e.g. `{ "maxConcurrent": 5 }` or `{ "active": false }`. */
  @Patch('agents/:id')
  async patchAgent(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const patch = parseInput(agentPatchSchema, body);
    const current = await this.roster.get(id);
    if (!current) throw new NotFoundException(`no agent "${id}"`);
    const merged: AgentInput = {
      name: current.name,
      team: current.team,
      email: current.email,
      skills: current.skills.map((name) => ({ name, level: current.skillLevels[name] ?? 3 })),
      languages: current.languages,
      maxConcurrent: current.maxConcurrent,
      active: current.active,
      workingHours: current.workingHours ?? null,
      timeZone: current.timeZone,
      ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    };
    return this.save(id, merged, {
      before: current,
      authorization,
      written: skillsWritten(body),
    });
  }

  /** Removes an agent who holds no conversation (deactivate one who does, and let them finish). */
  @Delete('agents/:id')
  @HttpCode(204)
  async deleteAgent(
    @Param('id') id: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    const load = (await this.loads.loads([id])).get(id) ?? 0;
    if (load > 0)
      throw new ConflictException(
        `agent "${id}" holds ${load} conversation(s); set "active": false and remove them once free`,
      );
    const row = await this.roster.get(id);
    if (!row || !(await this.roster.remove(id))) throw new NotFoundException(`no agent "${id}"`);
    await this.record(authorization, 'agent', id, {
      action: 'agent.removed',
      detail: { name: row.name, team: row.team },
    });
  }

  private record(
    authorization: string | undefined,
    resourceType: string,
    resourceId: string,
    change: AuditedChange | undefined,
  ): Promise<void> {
    return recordChange(this.audit, authorization, { resourceType, resourceId }, change);
  }

  /**
   * Stores the agent and records the change (against `before`, the agent as it was).
   * `written`: the skills as the request wrote them, for the issues' field names.
   */
  private async save(
    id: string,
    input: AgentInput,
    opts: { before?: AgentRow; authorization?: string; written?: readonly unknown[] },
  ) {
    const { skills, ...rest } = input;
    try {
      await this.roster.upsert([{ id, ...rest, ...splitSkills(skills) }], {
        requireKnown: true,
        written: opts.written,
      });
    } catch (err) {
      if (err instanceof UnknownNames) throw invalidInput(err.issues);
      throw err;
    }
    const after = await this.roster.get(id);
    const was = opts.before && agentFacts(opts.before);
    if (after)
      await this.record(
        opts.authorization,
        'agent',
        id,
        putChange('agent', was, agentFacts(after), AGENT_SHOWN),
      );
    // New or more capacity, or new skills: waiting handoffs may now have someone.
    await this.queue.serveQueue({ correlationId: '', causationId: '' });
    return this.agent(id);
  }
}
