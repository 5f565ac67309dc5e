import {
  Body,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { CONFIG, invalidInput } from '@support/service-kit';
import type { Config } from '../config.js';
import { SessionGuard } from './session.js';

/** The analyst API's read endpoints the dashboard may ask for (GET /v1/metrics/<name>). */
export const ANALYTICS_VIEWS = [
  'overview',
  'timeseries',
  'breakdown',
  'handoffs',
  'rules',
  'topics',
  'churn-risk',
] as const;
export type AnalyticsView = (typeof ANALYTICS_VIEWS)[number];

/** A rule's name as the policies spell them (explicit_human_request, sentiment.drop, ...). */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** The what-if replays recorded conversations through the decider, which can take a while. */
const UPSTREAM_TIMEOUT_MS = 30_000;

/** The answer of the metrics service, as the desk passes it on. */
interface Upstream {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * The dashboard's way to the metrics service's analyst API: the browser has
 * an agent's session cookie, not a metrics key, so the desk forwards the
 * allowed requests with its own key (METRICS_API_KEY). The query passes
 * unchanged (the metrics service validates it and its 400 comes back as is);
 * CSV comes back as a download.
 */
@Controller('v1/analytics')
@UseGuards(SessionGuard)
export class AnalyticsController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Get(':name')
  async view(@Param('name') name: string, @Req() req: Request, @Res() res: Response) {
    if (!(ANALYTICS_VIEWS as readonly string[]).includes(name))
      throw new NotFoundException(
        `no analytics view ${JSON.stringify(name)}: one of ${ANALYTICS_VIEWS.join(', ')}`,
      );
    const accept = req.headers.accept?.includes('text/csv') ? 'text/csv' : 'application/json';
    const answer = await this.forward('GET', `/v1/metrics/${name}${queryOf(req)}`, { accept });
    this.reply(res, answer, name);
  }

  @Post('rules/:rule/whatif')
  async whatIf(
    @Param('rule') rule: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    if (!RULE_NAME.test(rule))
      throw invalidInput([
        {
          field: 'rule',
          rule: 'format',
          message: 'must be a rule name (letters, digits, _ . : -; up to 100)',
        },
      ]);
    const answer = await this.forward(
      'POST',
      `/v1/metrics/rules/${encodeURIComponent(rule)}/whatif${queryOf(req)}`,
      { accept: 'application/json', 'content-type': 'application/json' },
      JSON.stringify(body ?? {}),
    );
    this.reply(res, answer, `whatif-${rule}`);
  }

  private async forward(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Upstream> {
    const key = this.config.METRICS_API_KEY;
    let response: globalThis.Response;
    try {
      response = await fetch(`${this.config.METRICS_URL}${path}`, {
        method,
        headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? 'timed out' : causeOf(err);
      return badGateway(
        `the metrics service at ${this.config.METRICS_URL} is unreachable (${reason})`,
      );
    }
    const answer: Upstream = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      body: Buffer.from(await response.arrayBuffer()),
    };
    // Not the agent's session: the desk's own key was refused. Passing a 401 on would sign the agent out.
    if (answer.status === 401 || answer.status === 403)
      return badGateway(
        `the metrics service refused the desk's key (${answer.status}): check METRICS_API_KEY`,
      );
    return answer;
  }

  private reply(res: Response, answer: Upstream, name: string): void {
    res.status(answer.status).setHeader('content-type', answer.contentType);
    res.setHeader('cache-control', 'no-store');
    if (answer.status < 300 && answer.contentType.startsWith('text/csv'))
      res.setHeader(
        'content-disposition',
        `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`,
      );
    res.send(answer.body);
  }
}

/** The request's query string as sent ("" or "?..."), so that repeated and encoded values pass unchanged. */
function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at < 0 ? '' : req.originalUrl.slice(at);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function badGateway(message: string): Upstream {
  return {
    status: 502,
    contentType: 'application/json; charset=utf-8',
    body: Buffer.from(JSON.stringify({ statusCode: 502, error: 'Bad Gateway', message })),
  };
}
