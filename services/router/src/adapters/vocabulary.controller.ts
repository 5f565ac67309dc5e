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
  Put,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyGuard, AuditTrail, invalidInput, parseInput } from '@support/service-kit';
import { putChange, type AuditedChange } from '../domain/audit.js';
import { skillName } from '../domain/directory.js';
import {
  skillInputSchema,
  teamInputSchema,
  type VocabularySkill,
  type VocabularyTeam,
} from '../domain/vocabulary.js';
import { Roster, UnknownNames } from './db/roster.js';
import { recordChange } from './http.controller.js';
import { VocabularyFeed } from './vocabulary-feed.js';

const teamName = z.string().trim().min(1).max(100);

/**
 * The directory's vocabulary as admin API: the teams and the skills agents and
 * handoffs may name. Every route needs `Authorization: Bearer` with a key from
 * ROUTER_API_KEYS; every change is published on directory.teams and recorded
 * on admin.audit.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class VocabularyController {
  constructor(
    private readonly roster: Roster,
    private readonly vocabulary: VocabularyFeed,
    private readonly audit: AuditTrail,
  ) {}

  @Get('teams')
  async teams() {
    return { teams: await this.roster.teams() };
  }

  /**
   * Creates or replaces a team: `{ description, skills }`, the skills it
   * covers, each a known one (a 400 naming the unknown one otherwise).
   */
  @Put('teams/:name')
  async putTeam(
    @Param('name') name: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const team = parseInput(teamName, name, 'name');
    const input = parseInput(teamInputSchema, body ?? {});
    const before = await this.known('teams', team);
    await this.vocabularyChange(() => this.roster.putTeam(team, input));
    const was = before && { description: before.description, skills: before.skills };
    const change = putChange('team', was, input, ['description', 'skills']);
    await this.record(authorization, 'team', team, change);
    return { name: team, ...input };
  }

  @Delete('teams/:name')
  @HttpCode(204)
  async deleteTeam(
    @Param('name') name: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    const before = await this.known('teams', name);
    const result = await this.roster.removeTeam(name);
    if (result === 'missing') throw new NotFoundException(`no team "${name}"`);
    if (result === 'in_use')
      throw new ConflictException(`team "${name}" still has agents; move them first`);
    await this.vocabulary.publish();
    await this.record(authorization, 'team', name, {
      action: 'team.removed',
      detail: { skills: before?.skills ?? [] },
    });
  }

  /** The known skills, each with the teams that cover it and how many agents have it. */
  @Get('skills')
  async skills() {
    return { skills: await this.roster.skills() };
  }

  /** Adds a skill to the known set (or describes it): `{ description }`. */
  @Put('skills/:name')
  async putSkill(
    @Param('name') name: string,
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ) {
    const skill = parseInput(skillName, name, 'name');
    const { description } = parseInput(skillInputSchema, body ?? {});
    const before = await this.known('skills', skill);
    await this.roster.putSkill(skill, description);
    await this.vocabulary.publish();
    const was = before && { description: before.description };
    const change = putChange('skill', was, { description }, ['description']);
    await this.record(authorization, 'skill', skill, change);
    return { name: skill, description };
  }

  /** Removes a skill that no agent has and no team covers (409 naming who does). */
  @Delete('skills/:name')
  @HttpCode(204)
  async deleteSkill(
    @Param('name') name: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<void> {
    const result = await this.roster.removeSkill(name);
    if (result === 'missing') throw new NotFoundException(`no skill "${name}"`);
    if (result !== 'deleted')
      throw new ConflictException(
        `skill "${name}" is still used by ${result.usedBy.join(', ')}; remove it from them first`,
      );
    await this.vocabulary.publish();
    await this.record(authorization, 'skill', name, { action: 'skill.removed', detail: {} });
  }

  /** A team or skill of the vocabulary as it is now, if there is one. */
  private async known(kind: 'teams', name: string): Promise<VocabularyTeam | undefined>;
  private async known(kind: 'skills', name: string): Promise<VocabularySkill | undefined>;
  private async known(kind: 'teams' | 'skills', name: string) {
    return (await this.roster.vocabulary())[kind].find((e) => e.name === name);
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

  private record(
    authorization: string | undefined,
    resourceType: string,
    resourceId: string,
    change: AuditedChange | undefined,
  ): Promise<void> {
    return recordChange(this.audit, authorization, { resourceType, resourceId }, change);
  }
}
