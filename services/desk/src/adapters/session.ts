import {
  createParamDecorator,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse } from 'cookie';
import jwt from 'jsonwebtoken';
import type { Request, Response } from 'express';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';
import { DeskDatabase } from './db/store.js';

export const SESSION_COOKIE = 'desk_session';
/** The header cookie-authenticated requests that change something carry the session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** The signed-in agent, from the session cookie. */
export interface Agent {
  login: string;
  agentId: string;
  name: string;
  team: string;
}

/** A request's session: its id (the token's jti) and agent. */
export interface Session {
  id: string;
  agent: Agent;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Agents' sessions. The cookie (HttpOnly, SameSite=Strict, Secure unless
 * DESK_SECURE_COOKIES=false) holds an HS256 token naming a session row in
 * desk.sessions; the session counts only while that row exists, so signing out,
 * a password change or removing the login ends it at once. Requests that change
 * something also carry the session's CSRF token (an HMAC of the session id,
 * returned by POST and GET /v1/session) in X-CSRF-Token.
 */
@Injectable()
export class Sessions {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly db: DeskDatabase,
  ) {}

  /** Opens a session for the agent and sets its cookie; returns its CSRF token. */
  async open(res: Response, agent: Agent): Promise<string> {
    const hours = this.config.DESK_SESSION_HOURS;
    const id = randomBytes(18).toString('base64url');
    await this.db.openSession(id, agent.login, new Date(Date.now() + hours * 3600_000));
    const token = jwt.sign(
      { agentId: agent.agentId, name: agent.name, team: agent.team },
      this.config.DESK_SESSION_SECRET,
      {
        algorithm: 'HS256',
        subject: agent.login,
        jwtid: id,
        expiresIn: hours * 3600,
        issuer: 'support-desk',
      },
    );
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.DESK_SECURE_COOKIES,
      path: '/',
      maxAge: hours * 3600 * 1000,
    });
    return this.csrfToken(id);
  }

  /** Tells the browser to drop the cookie. */
  clearCookie(res: Response): void {
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.DESK_SECURE_COOKIES,
      path: '/',
    });
  }

  /** The CSRF token of a session: bound to it, so another session's token does not pass. */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.config.DESK_SESSION_SECRET)
      .update(`desk-csrf:${sessionId}`)
      .digest('base64url');
  }

  /** Whether the request carries the session's CSRF token. */
  csrfMatches(req: Request, sessionId: string): boolean {
    const given = Buffer.from(String(req.headers[CSRF_HEADER] ?? ''));
    const expected = Buffer.from(this.csrfToken(sessionId));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * The request's session if it is open: the cookie's token is genuine and unexpired, its
   * session row still exists, and the login is enabled and names the same agent (so disabling
   * or removing a login ends its sessions). Undefined otherwise.
   */
  async current(req: Request): Promise<Session | undefined> {
    const claims = this.verify(req);
    if (!claims) return undefined;
    const open = await this.db.session(claims.jti);
    const login = open?.login;
    if (!login || login.login !== claims.sub || login.disabled || login.agentId !== claims.agentId)
      return undefined;
    return {
      id: claims.jti,
      agent: { login: login.login, agentId: login.agentId, name: login.name, team: login.team },
    };
  }

  /** Ends the session (the cookie stops working at once). */
  async close(sessionId: string): Promise<boolean> {
    return this.db.closeSession(sessionId);
  }

  private verify(req: Request): { sub: string; jti: string; agentId: string } | undefined {
    const token = parse(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!token) return undefined;
    try {
      const claims = jwt.verify(token, this.config.DESK_SESSION_SECRET, {
        algorithms: ['HS256'],
        issuer: 'support-desk',
      }) as jwt.JwtPayload & { agentId?: string };
      if (!claims.sub || !claims.jti || !claims.agentId) return undefined;
      return { sub: claims.sub, jti: claims.jti, agentId: claims.agentId };
    } catch {
      return undefined;
    }
  }
}

/**
 * Requires an open session (see Sessions.current) and, for a request that
 * changes something (not GET, HEAD or OPTIONS), its CSRF token in X-CSRF-Token
 * (403 without it). The agent is then `request.agent`, the session `request.session`.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly sessions: Sessions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context
      .switchToHttp()
      .getRequest<Request & { agent?: Agent; deskSession?: Session }>();
    const session = await this.sessions.current(req);
    if (!session)
      throw new UnauthorizedException(
        'sign in first (POST /v1/session); a session that ended or expired no longer counts',
      );
    if (!SAFE_METHODS.has(req.method) && !this.sessions.csrfMatches(req, session.id))
      throw new ForbiddenException(
        `the session's CSRF token is missing or wrong: send it in ${CSRF_HEADER} (from GET /v1/session)`,
      );
    req.agent = session.agent;
    req.deskSession = session;
    return true;
  }
}

export const CurrentAgent = createParamDecorator(
  (_: unknown, context: ExecutionContext): Agent =>
    context.switchToHttp().getRequest<Request & { agent: Agent }>().agent,
);

export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): Session =>
    context.switchToHttp().getRequest<Request & { deskSession: Session }>().deskSession,
);
