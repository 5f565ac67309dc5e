import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { stringify } from 'yaml';
import { z } from 'zod';
import { Bus, Topics } from '@support/bus';
import { ApiKeyGuard, parseInput } from '@support/service-kit';
import type { WhatIfReport } from '../domain/whatif.js';
import { PolicyAdmin, type ActivationAnswer } from './policy-admin.service.js';
import { actorOf } from './actor.js';
import { HumanRequestDetection } from './human-request.js';
import { policyFromBody, replayWhatIf, windowQuery } from './policy-input.js';
import { PolicyStore } from './policy-store.js';

type HeaderMap = Record<string, string | string[] | undefined>;

const activateBody = z.strictObject({ reason: z.string().max(500).default('') });
const rollbackBody = z.strictObject({
  version: z.string().min(1).max(200).optional(),
  reason: z.string().max(500).default(''),
});

/** An empty body (none, or `{}` from a JSON client) is an empty object. */
const objectOf = (body: unknown): unknown =>
  body === undefined || body === null || body === '' ? {} : body;

/**
 * The escalation policy as a product feature (every route needs a key from
 * DECIDER_API_KEYS; `X-Actor` names who acts, for the history and the audit):
 * - `GET /v1/policy`: the policy in force on this replica;
 * - `POST /v1/policy/versions`: a candidate (YAML or JSON), validated and stored as an immutable
 *   version (201; 200 when the same document is stored already);
 * - `GET /v1/policy/versions[/:version]`: the versions (active, previous, candidates, who and
 *   when), or one with its document;
 * - `POST /v1/policy/versions/:version/whatif`: the what-if replay under a stored version;
 * - `POST /v1/policy/versions/:version/activate`, `POST /v1/policy/rollback`: a new activation,
 *   answered once this replica applied it.
 */
@Controller('v1/policy')
@UseGuards(ApiKeyGuard)
export class PolicyController {
  constructor(
    private readonly bus: Bus,
    private readonly store: PolicyStore,
    private readonly admin: PolicyAdmin,
    private readonly humanRequests: HumanRequestDetection,
  ) {}

  @Get()
  current() {
    const policy = this.store.current;
    const activation = this.store.activation;
    return {
      version: policy.version,
      policySet: this.store.versions.policySet,
      source: activation ? Topics.policyVersions.name : this.store.seedOrigin,
      activation: activation ?? null,
      document: policy.document,
      yaml: stringify(policy.document),
    };
  }

  @Get('versions')
  async versions() {
    const versions = await this.admin.list();
    return {
      policySet: this.store.versions.policySet,
      active: this.store.current.version,
      versions,
      activations: [...this.store.versions.activations].reverse(),
    };
  }

  @Post('versions')
  async submit(
    @Body() body: unknown,
    @Headers() headers: HeaderMap,
    @Res({ passthrough: true })
    res: { status(code: number): void; setHeader(k: string, v: string): void },
  ) {
    const actor = actorOf(headers);
    const { policy, text } = policyFromBody(body);
    const { created, version } = await this.admin.submit(policy, text, actor);
    res.status(created ? 201 : 200);
    res.setHeader('location', `/v1/policy/versions/${encodeURIComponent(version.version)}`);
    return { created, ...version };
  }

  @Get('versions/:version')
  async version(@Param('version') version: string) {
    const { policy, source, summary } = await this.admin.find(version);
    return { ...summary, document: policy.document, yaml: stringify(policy.document), source };
  }

  @Post('versions/:version/whatif')
  @HttpCode(200)
  async whatif(@Param('version') version: string, @Query() query: unknown): Promise<WhatIfReport> {
    const window = parseInput(windowQuery, query, 'query');
    const { policy } = await this.admin.find(version);
    return replayWhatIf(this.bus, policy, window, this.humanRequests.detect);
  }

  @Post('versions/:version/activate')
  @HttpCode(200)
  activate(
    @Param('version') version: string,
    @Body() body: unknown,
    @Headers() headers: HeaderMap,
  ): Promise<ActivationAnswer> {
    const actor = actorOf(headers);
    const { reason } = parseInput(activateBody, objectOf(body), 'body');
    return this.admin.activate(version, actor, reason);
  }

  @Post('rollback')
  @HttpCode(200)
  rollback(@Body() body: unknown, @Headers() headers: HeaderMap): Promise<ActivationAnswer> {
    const actor = actorOf(headers);
    const { version, reason } = parseInput(rollbackBody, objectOf(body), 'body');
    return this.admin.rollback(version, actor, reason);
  }
}
