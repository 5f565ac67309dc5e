import { Body, Controller, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { Bus } from '@support/bus';
import { ApiKeyGuard, parseInput } from '@support/service-kit';
import type { WhatIfReport } from '../domain/whatif.js';
import { HumanRequestDetection } from './human-request.js';
import { policyFromBody, replayWhatIf, windowQuery } from './policy-input.js';

/**
 * `POST /v1/whatif`: replays the conversation log under a candidate policy
 * (the body: the YAML or JSON document, as text or a JSON object) with no
 * side effects, and reports how decisions would change. Needs an API key
 * (DECIDER_API_KEYS): a replay reads every conversation. A stored candidate
 * is replayed with `POST /v1/policy/versions/:version/whatif` (PolicyController).
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class WhatIfController {
  constructor(
    private readonly bus: Bus,
    private readonly humanRequests: HumanRequestDetection,
  ) {}

  @Post('whatif')
  @HttpCode(200)
  async whatif(@Body() body: unknown, @Query() query: unknown): Promise<WhatIfReport> {
    const window = parseInput(windowQuery, query, 'query');
    const { policy } = policyFromBody(body);
    return replayWhatIf(this.bus, policy, window, this.humanRequests.detect);
  }
}
