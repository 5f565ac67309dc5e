/**
 * A widget customer's verified identity, as support widgets do it: the customer's own site
 * (server side) signs who the customer is with the widget key's identity secret, and the browser
 * passes the signature on. Two forms:
 * - `customerId` + `userHash`: hex HMAC-SHA256 of the customer id (Intercom's "user hash");
 * - `identityToken`: an HS256 JWT with `sub` (the customer id), `exp`, and optionally `accountId`.
 * Without either the customer is anonymous (an id made up for the conversation), unless the key
 * requires an identity.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface IdentityClaim {
  customerId?: unknown;
  userHash?: unknown;
  identityToken?: unknown;
}

export type IdentityOutcome =
  | { kind: 'anonymous' }
  | { kind: 'verified'; customerId: string; accountId?: string }
  | {
      kind: 'refused';
      status: 400 | 401;
      error: 'identity_required' | 'identity_invalid' | 'identity_expired' | 'validation_failed';
      field: string;
      rule: string;
      message: string;
    };

const MAX_ID = 200;

const refused = (
  status: 400 | 401,
  error: Extract<IdentityOutcome, { kind: 'refused' }>['error'],
  field: string,
  rule: string,
  message: string,
): IdentityOutcome => ({ kind: 'refused', status, error, field, rule, message });

export function userHashOf(secret: string, customerId: string): string {
  return createHmac('sha256', secret).update(customerId, 'utf8').digest('hex');
}

function validId(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_ID;
}

function checkUserHash(secret: string, customerId: unknown, userHash: unknown): IdentityOutcome {
  if (!validId(customerId))
    return refused(
      400,
      'validation_failed',
      'customerId',
      'required',
      `must be 1-${MAX_ID} characters with userHash`,
    );
  if (typeof userHash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(userHash))
    return refused(
      400,
      'validation_failed',
      'userHash',
      'pattern',
      'must be the hex HMAC-SHA256 of customerId (64 hex digits)',
    );
  const expected = Buffer.from(userHashOf(secret, customerId), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(userHash, 'hex')))
    return refused(
      401,
      'identity_invalid',
      'userHash',
      'signature',
      "does not match customerId: sign it with the widget key's identity secret",
    );
  return { kind: 'verified', customerId };
}

function checkIdentityToken(secret: string, token: unknown, now: number): IdentityOutcome {
  if (typeof token !== 'string' || token === '')
    return refused(400, 'validation_failed', 'identityToken', 'type', 'must be a JWT (string)');
  let claims: jwt.JwtPayload;
  try {
    const decoded = jwt.verify(token, secret, {
      algorithms: ['HS256'],
      clockTimestamp: Math.floor(now / 1000),
    });
    if (typeof decoded === 'string') throw new Error('not a JSON payload');
    claims = decoded;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError)
      return refused(
        401,
        'identity_expired',
        'identityToken',
        'expired',
        `expired at ${err.expiredAt.toISOString()}: sign a fresh one`,
      );
    return refused(
      401,
      'identity_invalid',
      'identityToken',
      'signature',
      `is not signed with the widget key's identity secret (HS256): ${(err as Error).message}`,
    );
  }
  if (typeof claims.exp !== 'number')
    return refused(401, 'identity_invalid', 'identityToken', 'exp', 'must carry exp (its expiry)');
  if (!validId(claims.sub))
    return refused(
      401,
      'identity_invalid',
      'identityToken',
      'sub',
      `must carry sub, the customer id (1-${MAX_ID} characters)`,
    );
  const accountId = (claims as { accountId?: unknown }).accountId;
  if (accountId !== undefined && !validId(accountId))
    return refused(
      401,
      'identity_invalid',
      'identityToken',
      'accountId',
      `accountId must be 1-${MAX_ID} characters`,
    );
  return { kind: 'verified', customerId: claims.sub, ...(accountId ? { accountId } : {}) };
}

/** Who the customer of a new widget conversation is, for a key with these settings, at `now` (ms). */
export function checkIdentity(
  claim: IdentityClaim,
  key: { identitySecret?: string; requireIdentity: boolean },
  now: number,
): IdentityOutcome {
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  const byHash = given(claim.customerId) || given(claim.userHash);
  const byToken = given(claim.identityToken);
  if (!byHash && !byToken) {
    return key.requireIdentity
      ? refused(
          401,
          'identity_required',
          'identityToken',
          'required',
          'this widget key requires a verified identity: identityToken, or customerId with userHash',
        )
      : { kind: 'anonymous' };
  }
  if (byHash && byToken)
    return refused(
      400,
      'validation_failed',
      'identityToken',
      'exclusive',
      'give identityToken or customerId with userHash, not both',
    );
  if (!key.identitySecret)
    return refused(
      400,
      'validation_failed',
      byToken ? 'identityToken' : 'userHash',
      'not_accepted',
      'this widget key has no identity secret: it takes anonymous customers only',
    );
  return byToken
    ? checkIdentityToken(key.identitySecret, claim.identityToken, now)
    : checkUserHash(key.identitySecret, claim.customerId, claim.userHash);
}
