import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';

/** The decider could not be reached or answered with an error. */
export class DeciderUnavailable extends Error {}

export interface PolicyDocument {
  version: string;
  document: Record<string, unknown>;
}

/** The escalation decider's report of a what-if replay (services/escalation-decider/src/domain/whatif.ts). */
export interface WhatIfReportSummary {
  candidateVersion: string;
  recorded: { handoffs: number; handoffRate: number; conversationsHandedOff: number };
  candidate: { handoffs: number; handoffRate: number; conversationsHandedOff: number };
  flipped: { toHuman: string[]; toAi: string[] };
}

/** The policy is read at most every 30 s: the rules endpoint names thresholds from it on every call. */
const POLICY_TTL_MS = 30_000;

/** Calls the escalation decider's API (GET /v1/policy, POST /v1/whatif) with its key. */
@Injectable()
export class DeciderClient {
  private cached?: { at: number; policy: PolicyDocument };

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  private async call(path: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
    const url = `${this.config.DECIDER_URL.replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          ...(this.config.DECIDER_API_KEY
            ? { authorization: `Bearer ${this.config.DECIDER_API_KEY}` }
            : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new DeciderUnavailable(
        `the escalation decider at ${this.config.DECIDER_URL} is unreachable: ${(err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok)
      throw new DeciderUnavailable(
        `the escalation decider answered ${res.status} on ${path}: ${text.slice(0, 300)}`,
      );
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new DeciderUnavailable(
        `the escalation decider answered ${path} with something not JSON`,
      );
    }
  }

  /** The policy in force (cached for 30 s). */
  async policy(): Promise<PolicyDocument> {
    if (this.cached && Date.now() - this.cached.at < POLICY_TTL_MS) return this.cached.policy;
    const body = (await this.call('/v1/policy', { method: 'GET' }, 5_000)) as PolicyDocument;
    if (!body || typeof body.document !== 'object' || body.document === null)
      throw new DeciderUnavailable('the escalation decider answered /v1/policy without a document');
    this.cached = { at: Date.now(), policy: body };
    return body;
  }

  /** Replays the log under a candidate policy document. */
  async whatIf(
    document: Record<string, unknown>,
    window: { from?: string; to?: string },
  ): Promise<WhatIfReportSummary> {
    const query = new URLSearchParams();
    if (window.from) query.set('from', window.from);
    if (window.to) query.set('to', window.to);
    const qs = query.size ? `?${query.toString()}` : '';
    return (await this.call(
      `/v1/whatif${qs}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(document),
      },
      this.config.DECIDER_TIMEOUT_MS,
    )) as WhatIfReportSummary;
  }
}
