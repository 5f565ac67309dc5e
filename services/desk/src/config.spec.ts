import { loadConfig } from '@support/service-kit';
import { configSchema } from './config';

const base = { DESK_SESSION_SECRET: 'a-session-secret-of-at-least-32-characters' };
const load = (env: Record<string, string>) => loadConfig(configSchema, { ...base, ...env });

describe('desk configuration: the security settings', () => {
  it('marks session cookies Secure unless told the desk is on plain HTTP', () => {
    expect(load({}).DESK_SECURE_COOKIES).toBe(true);
    expect(load({ DESK_SECURE_COOKIES: 'false' }).DESK_SECURE_COOKIES).toBe(false);
    expect(() => load({ DESK_SECURE_COOKIES: 'maybe' })).toThrow(
      /DESK_SECURE_COOKIES: must be true or false/,
    );
  });

  it('refuses private webhook targets unless allowed, and checks the allowed ranges', () => {
    const defaults = load({});
    expect(defaults.DESK_WEBHOOK_ALLOW_PRIVATE).toBe(false);
    expect(defaults.DESK_WEBHOOK_ALLOWED_CIDRS).toEqual([]);
    expect(
      load({ DESK_WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/8, fd00::/8' }).DESK_WEBHOOK_ALLOWED_CIDRS,
    ).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(() => load({ DESK_WEBHOOK_ALLOWED_CIDRS: '10.0.0.1' })).toThrow(
      /DESK_WEBHOOK_ALLOWED_CIDRS: must be comma-separated CIDR ranges/,
    );
  });

  it('believes no proxy by default; takes hop counts and address lists', () => {
    expect(load({}).DESK_TRUST_PROXY).toBe(false);
    expect(load({ DESK_TRUST_PROXY: '1' }).DESK_TRUST_PROXY).toBe(1);
    expect(load({ DESK_TRUST_PROXY: 'true' }).DESK_TRUST_PROXY).toBe(true);
    expect(load({ DESK_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).DESK_TRUST_PROXY).toBe(
      'loopback, 10.0.0.0/8',
    );
  });

  it('limits sign-ins: 5 failures per login, 30 per address, 15 minutes', () => {
    const c = load({});
    expect([
      c.DESK_SIGNIN_MAX_FAILURES,
      c.DESK_SIGNIN_MAX_FAILURES_PER_ADDRESS,
      c.DESK_SIGNIN_LOCKOUT_MINUTES,
    ]).toEqual([5, 30, 15]);
  });
});
