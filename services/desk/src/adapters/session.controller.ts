import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  Post,
  Put,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AuditTrail, invalidInput, loginActor, parseInput } from '@support/service-kit';
import { verifyPassword } from '../domain/password.js';
import { DeskPublisher } from './actions.js';
import { DeskDatabase, loginNameSchema, passwordSchema } from './db/store.js';
import {
  CSRF_HEADER,
  CurrentSession,
  SessionGuard,
  Sessions,
  type Agent,
  type Session,
} from './session.js';
import { SignInThrottle, TooManyAttempts } from './sign-in-throttle.js';

const signInSchema = z.object({ login: loginNameSchema, password: z.string().min(1).max(200) });
const passwordChangeSchema = z.object({
  currentPassword: z.string().min(1).max(200),
  newPassword: passwordSchema,
});
/** Checked against when the login is unknown, so that it takes as long as a wrong password. */
const NO_SUCH_LOGIN_HASH = `scrypt$32768$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`;

/** The agent and the session's CSRF token, which the web app sends back in X-CSRF-Token. */
type SignedIn = Agent & { csrfToken: string };

/**
 * Signing in and out, and changing one's password. Sign-in attempts are
 * limited per login and per client address (SignInThrottle: 429 with
 * Retry-After when locked).
 */
@Controller('v1/session')
export class SessionController {
  constructor(
    private readonly db: DeskDatabase,
    private readonly sessions: Sessions,
    private readonly throttle: SignInThrottle,
    private readonly publisher: DeskPublisher,
    private readonly audit: AuditTrail,
  ) {}

  @Post()
  @HttpCode(200)
  async signIn(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedIn> {
    const { login, password } = parseInput(signInSchema, body);
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    await this.throttle.attempt(login, address).catch((err: unknown) => {
      if (err instanceof TooManyAttempts) err.send(res);
      throw err;
    });
    const row = await this.db.login(login);
    // One answer, in about the same time, for an unknown login and a wrong password.
    const matches = await verifyPassword(password, row?.passwordHash ?? NO_SUCH_LOGIN_HASH);
    if (!row || row.disabled || !matches)
      throw new UnauthorizedException('wrong login or password');
    await this.throttle.succeeded(login, address);
    const agent: Agent = { login: row.login, agentId: row.agentId, name: row.name, team: row.team };
    const csrfToken = await this.sessions.open(res, agent);
    await this.publisher.presence(agent.agentId, 'online');
    return { ...agent, csrfToken };
  }

  @Get()
  @UseGuards(SessionGuard)
  me(@CurrentSession() session: Session): SignedIn {
    return { ...session.agent, csrfToken: this.sessions.csrfToken(session.id) };
  }

  /**
   * Ends the session at once and reports the agent offline. Without an open session there is
   * nothing to end: 204, and nothing is published. With one, the CSRF token is required.
   */
  @Delete()
  @HttpCode(204)
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const session = await this.sessions.current(req);
    if (session && !this.sessions.csrfMatches(req, session.id))
      throw new ForbiddenException(
        `the session's CSRF token is missing or wrong: send it in ${CSRF_HEADER}`,
      );
    this.sessions.clearCookie(res);
    if (session && (await this.sessions.close(session.id)))
      await this.publisher.presence(session.agent.agentId, 'offline');
  }

  /**
   * Changes the signed-in agent's password: the current one is required (wrong guesses count
   * towards the login's lockout), the new one follows the password policy. Every other session
   * of the login ends; this one stays.
   */
  @Put('password')
  @HttpCode(204)
  @UseGuards(SessionGuard)
  async changePassword(
    @CurrentSession() session: Session,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { currentPassword, newPassword } = parseInput(passwordChangeSchema, body);
    const login = session.agent.login;
    await this.throttle.passwordCheck(login).catch((err: unknown) => {
      if (err instanceof TooManyAttempts) err.send(res);
      throw err;
    });
    const row = await this.db.login(login);
    if (!row || !(await verifyPassword(currentPassword, row.passwordHash)))
      throw invalidInput([
        { field: 'currentPassword', rule: 'matches', message: 'is not your current password' },
      ]);
    await this.throttle.passwordCheckSucceeded(login);
    if (currentPassword === newPassword)
      throw invalidInput([
        { field: 'newPassword', rule: 'differs', message: 'must differ from the current password' },
      ]);
    await this.db.setPassword(login, newPassword, session.id);
    await this.audit.record({
      actor: loginActor(login),
      action: 'login.password_changed',
      resourceType: 'login',
      resourceId: login,
      detail: { otherSessionsEnded: true },
    });
  }
}
