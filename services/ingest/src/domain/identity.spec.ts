import jwt from 'jsonwebtoken';
import { checkIdentity, userHashOf } from './identity';

const secret = 'identity-secret-of-the-customers-site-0123456789';
const key = { identitySecret: secret, requireIdentity: false };
const now = Date.parse('2026-03-01T12:00:00Z');
const seconds = (ms: number) => Math.floor(ms / 1000);
const signed = (claims: object, s = secret) =>
  jwt.sign({ iat: seconds(now), ...claims }, s, { algorithm: 'HS256' });

describe('a widget customer identity', () => {
  it('is anonymous when none is given and the key does not require one', () => {
    expect(checkIdentity({}, key, now)).toEqual({ kind: 'anonymous' });
  });

  it('is required when the key says so', () => {
    expect(checkIdentity({}, { ...key, requireIdentity: true }, now)).toMatchObject({
      kind: 'refused',
      status: 401,
      error: 'identity_required',
    });
  });

  it('is verified by the HMAC-SHA256 of the customer id (user hash)', () => {
    const userHash = userHashOf(secret, 'cust-42');
    expect(checkIdentity({ customerId: 'cust-42', userHash }, key, now)).toEqual({
      kind: 'verified',
      customerId: 'cust-42',
    });
  });

  it('refuses a user hash made for another customer or with another secret', () => {
    for (const userHash of [
      userHashOf(secret, 'cust-41'),
      userHashOf('another-secret-of-someone-else-0123456789', 'cust-42'),
    ]) {
      expect(checkIdentity({ customerId: 'cust-42', userHash }, key, now)).toMatchObject({
        kind: 'refused',
        status: 401,
        error: 'identity_invalid',
        field: 'userHash',
      });
    }
  });

  it('names the field of a malformed user hash or a missing customer id', () => {
    expect(checkIdentity({ customerId: 'c', userHash: 'xyz' }, key, now)).toMatchObject({
      status: 400,
      field: 'userHash',
      rule: 'pattern',
    });
    expect(checkIdentity({ userHash: userHashOf(secret, 'c') }, key, now)).toMatchObject({
      status: 400,
      field: 'customerId',
      rule: 'required',
    });
  });

  it('is verified by an HS256 JWT with sub, exp and the account', () => {
    const identityToken = signed({
      sub: 'cust-7',
      accountId: 'acct-helios',
      exp: seconds(now) + 600,
    });
    expect(checkIdentity({ identityToken }, key, now)).toEqual({
      kind: 'verified',
      customerId: 'cust-7',
      accountId: 'acct-helios',
    });
  });

  it('refuses an expired, forged, unexpiring or unsigned JWT', () => {
    const cases: [string, string][] = [
      [signed({ sub: 'c', exp: seconds(now) - 1 }), 'identity_expired'],
      [
        signed({ sub: 'c', exp: seconds(now) + 600 }, 'not-the-secret-at-all-0123456789abcdef'),
        'identity_invalid',
      ],
      [signed({ sub: 'c' }), 'identity_invalid'],
      [
        jwt.sign({ sub: 'c', exp: seconds(now) + 600 }, '', { algorithm: 'none' }),
        'identity_invalid',
      ],
      [signed({ exp: seconds(now) + 600 }), 'identity_invalid'],
    ];
    for (const [identityToken, error] of cases) {
      expect(checkIdentity({ identityToken }, key, now)).toMatchObject({
        kind: 'refused',
        status: 401,
        error,
        field: 'identityToken',
      });
    }
  });

  it('is refused when the key has no identity secret to check it with', () => {
    const identityToken = signed({ sub: 'c', exp: seconds(now) + 600 });
    expect(checkIdentity({ identityToken }, { requireIdentity: false }, now)).toMatchObject({
      status: 400,
      rule: 'not_accepted',
    });
  });

  it('takes one form, not both', () => {
    const identityToken = signed({ sub: 'c', exp: seconds(now) + 600 });
    expect(
      checkIdentity(
        { identityToken, customerId: 'c', userHash: userHashOf(secret, 'c') },
        key,
        now,
      ),
    ).toMatchObject({ status: 400, rule: 'exclusive' });
  });
});
