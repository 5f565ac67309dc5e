import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Put,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyGuard, invalidInput, parseInput } from '@support/service-kit';
import {
  agentIdSchema,
  agentInputSchema,
  agentPatchSchema,
  skillName,
  splitSkills,
  type AgentInput,
} from '../domain/directory.js';
import { skillInputSchema, teamInputSchema } from '../domain/vocabulary.js';
import type { AgentRow } from './db/schema.js';
import { Roster, UnknownNames } from './db/roster.js';
import { LoadStore } from './load-store.js';
import { PRESENCE_STATUSES, PresenceStore, type PresenceStatus } from './presence.js';
import { RouterService } from './router.service.js';
import { VocabularyFeed } from './vocabulary-feed.js';

const presenceInput = z.strictObject({ status: z.enum(PRESENCE_STATUSES) });

const teamName = z.string().trim().min(1).max(100);

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

/**
 * The agents directory's admin API. Every route needs `Authorization: Bearer`
 * with a key from ROUTER_API_KEYS; invalid input gets a 400 naming the field.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class RouterController {
  constructor(
    private readonly roster: Roster,
    private readonly loads: LoadStore,
    private readonly presence: PresenceStore,
    private readonly router: RouterService,
    private readonly vocabulary: VocabularyFeed,
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
  async setPresence(@Param('id') id: string, @Body() body: unknown) {
    const { status } = parseInput(presenceInput, body);
    const row = await this.roster.get(id);
    if (!row) throw new NotFoundException(`no agent "${id}"`);
    const [before] = (await this.presence.of([id])).values();
    await this.presence.set(id, status);
    if (status === 'online' && before !== 'online')
      await this.router.serveQueue({ correlationId: '', causationId: '' });
    return this.agent(id);
  }

  /** Creates or replaces an agent. More capacity may serve waiting handoffs at once. */
  @Put('agents/:id')
  async putAgent(@Param('id') id: string, @Body() body: unknown) {
    parseInput(agentIdSchema, id, 'id');
    const input = parseInput(agentInputSchema, body);
    return this.save(id, input, (body as { skills?: unknown[] }).skills);
  }

  /** Changes some fields of an agent, e.g. `{ "maxConcurrent": 5 }` or `{ "active": false }`. */
  @Patch('agents/:id')
  async patchAgent(@Param('id') id: string, @Body() body: unknown) {
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
    return this.save(id, merged, (body as { skills?: unknown[] }).skills);
  }

  /** Removes an agent who holds no conversation (deactivate one who does, and let them finish). */
  @Delete('agents/:id')
  @HttpCode(204)
  async deleteAgent(@Param('id') id: string): Promise<void> {
    const load = (await this.loads.loads([id])).get(id) ?? 0;
    if (load > 0)
      throw new ConflictException(
        `agent "${id}" holds ${load} conversation(s); set "active": false and remove them once free`,
      );
    if (!(await this.roster.remove(id))) throw new NotFoundException(`no agent "${id}"`);
  }

  @Get('teams')
  async teams() {
    return { teams: await this.roster.teams() };
  }

  /**
   * Creates or replaces a team: `{ description, skills }`, the skills it
   * covers, each a known one (a 400 naming the unknown one otherwise).
   */
  @Put('teams/:name')
  async putTeam(@Param('name') name: string, @Body() body: unknown) {
    const team = parseInput(teamName, name, 'name');
    const input = parseInput(teamInputSchema, body ?? {});
    await this.vocabularyChange(() => this.roster.putTeam(team, input));
    return { name: team, ...input };
  }

  @Delete('teams/:name')
  @HttpCode(204)
  async deleteTeam(@Param('name') name: string): Promise<void> {
    const result = await this.roster.removeTeam(name);
    if (result === 'missing') throw new NotFoundException(`no team "${name}"`);
    if (result === 'in_use')
      throw new ConflictException(`team "${name}" still has agents; move them first`);
    await this.vocabulary.publish();
  }

  /** The known skills, each with the teams that cover it and how many agents have it. */
  @Get('skills')
  async skills() {
    return { skills: await this.roster.skills() };
  }

  /** Adds a skill to the known set (or describes it): `{ description }`. */
  @Put('skills/:name')
  async putSkill(@Param('name') name: string, @Body() body: unknown) {
    const skill = parseInput(skillName, name, 'name');
    const { description } = parseInput(skillInputSchema, body ?? {});
    await this.roster.putSkill(skill, description);
    await this.vocabulary.publish();
    return { name: skill, description };
  }

  /** Removes a skill that no agent has and no team covers (409 naming who does). */
  @Delete('skills/:name')
  @HttpCode(204)
  async deleteSkill(@Param('name') name: string): Promise<void> {
    const result = await this.roster.removeSkill(name);
    if (result === 'missing') throw new NotFoundException(`no skill "${name}"`);
    if (result !== 'deleted')
      throw new ConflictException(
        `skill "${name}" is still used by ${result.usedBy.join(', ')}; remove it from them first`,
      );
    await this.vocabulary.publish();
  }

  /** Runs a change of the vocabulary, reports unknown names as a 400, and publishes the vocabulary. */
  private async vocabularyChange(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (err) {
      if (err instanceof UnknownNames) throw invalidInput(err.issues);
      throw err;
    }
    await this.vocabulary.publish();
  }

  /** `written`: the skills as the request wrote them (for the issues' field names), if it named them. */
  private async save(id: string, input: AgentInput, written?: readonly unknown[]) {
    const { skills, ...rest } = input;
    try {
      await this.roster.upsert([{ id, ...rest, ...splitSkills(skills) }], {
        requireKnown: true,
        written: Array.isArray(written) ? written : undefined,
      });
    } catch (err) {
      if (err instanceof UnknownNames) throw invalidInput(err.issues);
      throw err;
    }
    // New or more capacity, or new skills: waiting handoffs may now have someone.
    await this.router.serveQueue({ correlationId: '', causationId: '' });
    return this.agent(id);
  }
}
