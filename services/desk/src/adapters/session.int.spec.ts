import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { PresenceStatus } from '@support/contracts';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { SESSION_COOKIE } from './session';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const run = randomUUID().replace(/-/g, '').slice(0, 12);
const MAX_FAILURES = 5;
const MAX_FAILURES_PER_ADDRESS = 12;
const LOCKOUT_MINUTES = 15;

/**
 * A client address of this run (documentation prefix 2001:db8::/32, one /64 per name), sent as
 * X-Forwarded-For, which the desk believes from loopback here: other runs' failures never count.
 */
const address = (name: number) =>
  `2001:db8:${run.slice(0, 4)}:${name.toString(16).padStart(2, '0')}${run.slice(4, 6)}::1`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

interface Person {
  login: string;
  password: string;
  agentId: string;
  name: string;
}

const person = (name: string): Person => ({
  login: `${name}-${run}@desk.example`,
  password: `${name}-password-${run}`,
  agentId: `itest-${name}-${run}`,
  name,
});

/** A signed-in browser: its cookie and the session's CSRF token. */
interface Browser {
  cookie: string;
  csrf: string;
}

describe('desk sessions: sign-in limits, revocation, CSRF, password change (Redis, PostgreSQL, Kafka)', () => {
  let rig: ServiceRig<INestApplication>;
  const people: Person[] = [];

  const http = async (
    method: string,
    path: string,
    opts: {
      body?: unknown;
      as?: Browser;
      csrf?: string | null;
      key?: string;
      from?: string;
      cookie?: string;
    } = {},
  ): Promise<Answer> => {
    const csrf = opts.csrf === undefined ? opts.as?.csrf : opts.csrf;
    const cookie = opts.cookie ?? opts.as?.cookie;
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': opts.from ?? address(0),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(cookie ? { cookie } : {}),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
        ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
  };

  const attempt = (login: string, password: string, from = address(0)) =>
    http('POST', '/v1/session', { body: { login, password }, from });

  const signIn = async (who: Person, from = address(0)): Promise<Browser> => {
    const res = await attempt(who.login, who.password, from);
    expect(res.status).toBe(200);
    return {
      cookie: (res.headers.get('set-cookie') ?? '').split(';')[0],
      csrf: res.body.csrfToken as string,
    };
  };

  const createLogin = async (name: string): Promise<Person> => {
    const who = person(name);
    const { login, ...rest } = who;
    expect((await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: rest })).status).toBe(
      200,
    );
    people.push(who);
    return who;
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: `itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: '',
      DESK_TRUST_PROXY: 'loopback',
      DESK_SIGNIN_MAX_FAILURES: String(MAX_FAILURES),
      DESK_SIGNIN_MAX_FAILURES_PER_ADDRESS: String(MAX_FAILURES_PER_ADDRESS),
      DESK_SIGNIN_LOCKOUT_MINUTES: String(LOCKOUT_MINUTES),
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'desk-session-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: { what: "the desk's consumers to join", check: (app) => app.get(Bus).health().ok },
      watch: [Topics.presence],
    });
  }, 90_000);

  afterAll(async () => {
    if (rig)
      for (const who of people)
        await http('DELETE', `/v1/logins/${who.login}`, { key: API_KEY }).catch(() => undefined);
    await rig?.close();
  });

  describe('sign-in limits', () => {
    it(`locks a login after ${MAX_FAILURES} wrong passwords: 429 with Retry-After, the right password refused too, from anywhere`, async () => {
      const carl = await createLogin('carl');
      const statuses: number[] = [];
      for (let i = 0; i < MAX_FAILURES; i++)
        statuses.push((await attempt(carl.login, `wrong-${i}`, address(1))).status);
      expect(statuses).toEqual(Array(MAX_FAILURES).fill(401));

      const locked = await attempt(carl.login, 'wrong-again', address(1));
      expect(locked.status).toBe(429);
      const retryAfter = Number(locked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(LOCKOUT_MINUTES * 60);
      expect(locked.body.error).toBe('too_many_attempts');
      expect(locked.body.message).toMatch(
        /^too many failed sign-ins for this login: try again in 15 minutes \(after \d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
      );
      expect(locked.headers.get('set-cookie')).toBeNull();

      // the right password, from another address, while the login is locked
      const right = await attempt(carl.login, carl.password, address(2));
      expect(right.status).toBe(429);
      expect(right.headers.get('set-cookie')).toBeNull();
    });

    it('counts and locks an unknown login exactly like a known one', async () => {
      const unknown = `nobody-${run}@desk.example`;
      const statuses: number[] = [];
      for (let i = 0; i <= MAX_FAILURES; i++)
        statuses.push((await attempt(unknown, `wrong-${i}`, address(3))).status);
      expect(statuses).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
      const locked = await attempt(unknown, 'wrong', address(3));
      expect(locked.body.message).toMatch(
        /^too many failed sign-ins for this login: try again in 15 minutes/,
      );
      expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it("forgives a login's failures once it signs in", async () => {
      const dora = await createLogin('dora');
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < MAX_FAILURES - 1; i++)
          expect((await attempt(dora.login, `wrong-${i}`, address(4))).status).toBe(401);
        expect((await attempt(dora.login, dora.password, address(4))).status).toBe(200);
      }
    });

    it(`locks an address after ${MAX_FAILURES_PER_ADDRESS} failures across logins, not the logins elsewhere`, async () => {
      const erin = await createLogin('erin');
      const statuses: number[] = [];
      for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++)
        statuses.push(
          (await attempt(`guess-${i}-${run}@desk.example`, 'wrong', address(5))).status,
        );
      expect(statuses).toEqual(Array(MAX_FAILURES_PER_ADDRESS).fill(401));

      const locked = await attempt(`guess-more-${run}@desk.example`, 'wrong', address(5));
      expect(locked.status).toBe(429);
      expect(locked.body.message).toMatch(
        /^too many failed sign-ins from your address: try again in 15 minutes/,
      );
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      // a real login with its right password, from the locked address, then from another
      expect((await attempt(erin.login, erin.password, address(5))).status).toBe(429);
      expect((await attempt(erin.login, erin.password, address(6))).status).toBe(200);
    });

    it('names the fields of a malformed sign-in', async () => {
      const res = await http('POST', '/v1/session', { body: { login: 'x' }, from: address(7) });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
        'login',
        'password',
      ]);
    });
  });

  describe('sessions end on the server', () => {
    it('signs out at once: the old cookie is refused afterwards', async () => {
      const fay = await createLogin('fay');
      const browser = await signIn(fay);
      expect((await http('GET', '/v1/session', { as: browser })).status).toBe(200);

      const out = await http('DELETE', '/v1/session', { as: browser });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
      // the same cookie, replayed
      expect((await http('GET', '/v1/session', { as: browser })).status).toBe(401);
      expect((await http('GET', '/v1/desk/queue', { as: browser })).status).toBe(401);
      const presence = await http('POST', '/v1/desk/presence', {
        as: browser,
        body: { status: 'online' },
      });
      expect(presence.status).toBe(401);
    });

    it('publishes nothing on agent.presence for a sign-out without an open session', async () => {
      const gus = await createLogin('gus');
      const browser = await signIn(gus);
      await rig.watcher.waitFor(Topics.presence, (r) => r.key === gus.agentId);
      expect((await http('DELETE', '/v1/session', { as: browser })).status).toBe(204);
      const offline = (r: { key: string; value: { status: PresenceStatus } }) =>
        r.key === gus.agentId && r.value.status === PresenceStatus.OFFLINE;
      await rig.watcher.waitFor(Topics.presence, offline);

      // When the ended session signs out again, and a request without a cookie signs out
      expect((await http('DELETE', '/v1/session', { as: browser })).status).toBe(204);
      expect((await http('DELETE', '/v1/session', {})).status).toBe(204);
      expect(
        (await http('DELETE', '/v1/session', { cookie: `${SESSION_COOKIE}=forged` })).status,
      ).toBe(204);
      // Then (after the agent's next record, on the same partition) still only the one OFFLINE
      await signIn(gus);
      const online = (r: { key: string; value: { status: PresenceStatus } }) =>
        r.key === gus.agentId && r.value.status === PresenceStatus.ONLINE;
      await rig.watcher.waitFor(Topics.presence, online, { count: 2 });
      expect(rig.watcher.records(Topics.presence).filter(offline)).toHaveLength(1);
    });

    it('ends every session of a login when an administrator sets a new password or disables it', async () => {
      const hal = await createLogin('hal');
      const { login, ...rest } = hal;
      const before = await signIn(hal);
      // the same password again changes nothing
      expect((await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: rest })).status).toBe(
        200,
      );
      expect((await http('GET', '/v1/session', { as: before })).status).toBe(200);

      const reset = { ...rest, password: `reset-${run}-password` };
      expect((await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: reset })).status).toBe(
        200,
      );
      expect((await http('GET', '/v1/session', { as: before })).status).toBe(401);

      const after = await signIn({ ...hal, password: reset.password });
      const disabled = { ...reset, disabled: true };
      expect(
        (await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: disabled })).status,
      ).toBe(200);
      // enabled again: the session ended with the disabling does not come back
      expect((await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: reset })).status).toBe(
        200,
      );
      expect((await http('GET', '/v1/session', { as: after })).status).toBe(401);
    });
  });

  describe('password change', () => {
    it('requires the current password, applies the policy, and ends the other sessions but this one', async () => {
      const ida = await createLogin('ida');
      const laptop = await signIn(ida);
      const phone = await signIn(ida, address(8));
      const newPassword = `ida-new-password-${run}`;

      const wrong = await http('PUT', '/v1/session/password', {
        as: laptop,
        body: { currentPassword: 'not-it', newPassword },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.issues).toEqual([
        expect.objectContaining({ field: 'currentPassword', rule: 'matches' }),
      ]);
      const short = await http('PUT', '/v1/session/password', {
        as: laptop,
        body: { currentPassword: ida.password, newPassword: 'short' },
      });
      expect(short.status).toBe(400);
      expect(short.body.issues.map((i: { field: string }) => i.field)).toEqual(['newPassword']);
      const same = await http('PUT', '/v1/session/password', {
        as: laptop,
        body: { currentPassword: ida.password, newPassword: ida.password },
      });
      expect(same.status).toBe(400);
      expect(same.body.issues.map((i: { rule: string }) => i.rule)).toEqual(['differs']);
      // nothing changed so far
      expect((await http('GET', '/v1/session', { as: phone })).status).toBe(200);

      const changed = await http('PUT', '/v1/session/password', {
        as: laptop,
        body: { currentPassword: ida.password, newPassword },
      });
      expect(changed.status).toBe(204);
      expect((await http('GET', '/v1/session', { as: laptop })).status).toBe(200);
      expect((await http('GET', '/v1/session', { as: phone })).status).toBe(401);
      expect((await attempt(ida.login, ida.password, address(9))).status).toBe(401);
      expect((await attempt(ida.login, newPassword, address(9))).status).toBe(200);
    });

    it('needs a session and its CSRF token', async () => {
      const body = { currentPassword: 'whatever-it-is', newPassword: 'something-long-enough' };
      expect((await http('PUT', '/v1/session/password', { body })).status).toBe(401);
      const jo = await createLogin('jo');
      const browser = await signIn(jo);
      const res = await http('PUT', '/v1/session/password', {
        as: browser,
        csrf: null,
        body: { currentPassword: jo.password, newPassword: `jo-new-password-${run}` },
      });
      expect(res.status).toBe(403);
      expect((await attempt(jo.login, jo.password, address(10))).status).toBe(200);
    });
  });

  describe('CSRF', () => {
    it('refuses a cookie request that changes something without the session’s token (403), and takes it with the token', async () => {
      const kim = await createLogin('kim');
      const lee = await createLogin('lee');
      const browser = await signIn(kim);
      const other = await signIn(lee);
      const body = { status: 'away' };

      const without = await http('POST', '/v1/desk/presence', { as: browser, csrf: null, body });
      expect(without.status).toBe(403);
      expect(without.body.message).toMatch(/x-csrf-token/);
      const wrong = await http('POST', '/v1/desk/presence', {
        as: browser,
        csrf: other.csrf,
        body,
      });
      expect(wrong.status).toBe(403);
      expect((await http('POST', '/v1/desk/presence', { as: browser, body })).status).toBe(202);
      // reading needs no token
      expect((await http('GET', '/v1/desk/queue', { as: browser, csrf: null })).status).toBe(200);
      // GET /v1/session gives the same token again (a reloaded page)
      const me = await http('GET', '/v1/session', { as: browser, csrf: null });
      expect(me.body.csrfToken).toBe(browser.csrf);

      // signing out needs it too: without it the session stays
      expect((await http('DELETE', '/v1/session', { as: browser, csrf: null })).status).toBe(403);
      expect((await http('GET', '/v1/session', { as: browser })).status).toBe(200);
    });

    it('leaves requests with an API key alone', async () => {
      const res = await http('PUT', `/v1/logins/max-${run}@desk.example`, {
        key: API_KEY,
        body: { agentId: `itest-max-${run}`, name: 'Max', password: `max-password-${run}` },
      });
      expect(res.status).toBe(200);
      const removed = await http('DELETE', `/v1/logins/max-${run}@desk.example`, { key: API_KEY });
      expect(removed.status).toBe(204);
    });
  });

  it("ends a removed login's sessions, and re-creating the login does not bring them back", async () => {
    const ned = await createLogin('ned');
    const browser = await signIn(ned);
    expect((await http('DELETE', `/v1/logins/${ned.login}`, { key: API_KEY })).status).toBe(204);
    expect((await http('GET', '/v1/session', { as: browser })).status).toBe(401);
    await createLogin('ned');
    expect((await http('GET', '/v1/session', { as: browser })).status).toBe(401);
    expect((await attempt(ned.login, ned.password, address(11))).status).toBe(200);
  });
});
