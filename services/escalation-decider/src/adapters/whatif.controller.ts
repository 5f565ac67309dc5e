import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { stringify } from 'yaml';
import { z } from 'zod';
import { Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { ApiKeyGuard, invalidInput, parseInput, replayLog } from '@support/service-kit';
import { parsePolicy, PolicyError } from '../domain/policy.js';
import { whatIf, type WhatIfReport } from '../domain/whatif.js';
import { PolicyStore } from './policy-store.js';

const instant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time')
  .transform((s) => new Date(s).toISOString());

const windowQuery = z.strictObject({ from: instant.optional(), to: instant.optional() });

/**
 * The decider's API. `GET /v1/policy`: the policy in force. `POST /v1/whatif`:
 * replays the conversation log under a candidate policy (the body: the YAML
 * or JSON document, as text or a JSON object) with no side effects, and
 * reports how decisions would change. Both need an API key (DECIDER_API_KEYS):
 * the policy is internal, and a replay reads every conversation.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class WhatIfController {
  constructor(
    private readonly bus: Bus,
    private readonly policies: PolicyStore,
  ) {}

  @Get('policy')
  policy(): { version: string; document: unknown; yaml: string } {
    const document = this.policies.current.document;
    return { version: document.version, document, yaml: stringify(document) };
  }

  @Post('whatif')
  @HttpCode(200)
  async whatif(@Body() body: unknown, @Query() query: unknown): Promise<WhatIfReport> {
    const window = parseInput(windowQuery, query, 'query');
    const text =
      typeof body === 'string'
        ? body
        : body && typeof body === 'object' && Object.keys(body).length
          ? JSON.stringify(body)
          : '';
    if (!text.trim())
      throw invalidInput([
        {
          field: 'body',
          rule: 'required',
          message: 'the candidate policy (YAML or JSON) is required',
        },
      ]);
    let candidate;
    try {
      candidate = parsePolicy(text, 'body');
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      throw new BadRequestException({
        error: 'invalid_policy',
        issues: [{ field: 'body', rule: 'policy', message: err.message }],
      });
    }
    const events: ConversationEvent[] = [];
    await replayLog(this.bus, async (event) => {
      events.push(event);
    });
    return whatIf(events, candidate, window);
  }
}
