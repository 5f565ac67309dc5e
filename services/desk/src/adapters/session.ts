import {
  createParamDecorator,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { parse } from 'cookie';
import jwt from 'jsonwebtoken';
import type { Request, Response } from 'express';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';
import { DeskDatabase } from './db/store.js';

export const SESSION_COOKIE = 'desk_session';

/** The signed-in agent, from the session cookie. */
export interface Agent {
  login: string;
  agentId: string;
  name: string;
  team: string;
}

/** Agents' sessions: an HS256 token in an HttpOnly, SameSite=Strict cookie. */
@Injectable()
export class Sessions {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  open(res: Response, agent: Agent): void {
    const hours = this.config.DESK_SESSION_HOURS;
    const token = jwt.sign(
      { agentId: agent.agentId, name: agent.name, team: agent.team },
      this.config.DESK_SESSION_SECRET,
      { algorithm: 'HS256', subject: agent.login, expiresIn: hours * 3600, issuer: 'support-desk' },
    );
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.DESK_SECURE_COOKIES,
      path: '/',
      maxAge: hours * 3600 * 1000,
    });
  }

  close(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  /** The agent of a request's session cookie, or undefined (absent, expired or forged). */
  read(req: Request): Agent | undefined {
    const token = parse(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!token) return undefined;
    try {
      const claims = jwt.verify(token, this.config.DESK_SESSION_SECRET, {
        algorithms: ['HS256'],
        issuer: 'support-desk',
      }) as jwt.JwtPayload & { agentId?: string; name?: string; team?: string };
      if (!claims.sub || !claims.agentId) return undefined;
      return {
        login: claims.sub,
        agentId: claims.agentId,
        name: claims.name ?? '',
        team: claims.team ?? '',
      };
    } catch {
      return undefined;
    }
  }
}

/**
 * Requires a signed-in agent whose login still exists, is enabled and names
 * the same agent (so disabling or deleting a login ends its sessions at
 * once); the agent is then `request.agent`.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: Sessions,
    private readonly db: DeskDatabase,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { agent?: Agent }>();
    const agent = this.sessions.read(req);
    if (!agent) throw new UnauthorizedException('sign in first (POST /v1/session)');
    const row = await this.db.login(agent.login);
    if (!row || row.disabled || row.agentId !== agent.agentId)
      throw new UnauthorizedException('this sign-in is no longer valid: sign in again');
    req.agent = agent;
    return true;
  }
}

export const CurrentAgent = createParamDecorator(
  (_: unknown, context: ExecutionContext): Agent =>
    context.switchToHttp().getRequest<Request & { agent: Agent }>().agent,
);
