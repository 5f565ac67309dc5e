/**
 * A widget conversation's token: a short-lived HS256 JWT naming the conversation, the widget key
 * that started it and the customer it belongs to. The browser holds it instead of any key; it
 * expires after INGEST_WIDGET_TOKEN_TTL_S and is exchanged for a new one while it is valid or
 * lately expired (INGEST_WIDGET_REFRESH_GRACE_S), and never later than
 * INGEST_WIDGET_SESSION_MAX_S after the conversation began: a stolen token is of use for a
 * bounded time however often it is refreshed.
 */
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';

const AUDIENCE = 'ingest-widget-conversation';

/** The key conversation tokens are signed with: derived from STREAM_TOKEN_SECRET for this use only. */
export function conversationTokenSecret(streamTokenSecret: string): Buffer {
  return createHmac('sha256', streamTokenSecret).update('widget conversation tokens').digest();
}

export interface ConversationClaims {
  conversationId: string;
  /** The conversation's id in the web channel (the widget key's id and a random part). */
  externalConversationId: string;
  widgetKeyId: string;
  customerId: string;
  /** The customer's site signed the customer id (and accountId); otherwise it is anonymous. */
  verified: boolean;
  /** The customer's CRM account, from a verified identity only. */
  accountId?: string;
  /** When the conversation began (seconds since the epoch); refreshes end a session later. */
  sessionStart: number;
}

interface Payload {
  sub: string;
  ext: string;
  wk: string;
  cus: string;
  idv: 'verified' | 'anonymous';
  acc?: string;
  sst: number;
  iat: number;
  exp: number;
}

export interface IssuedToken {
  token: string;
  /** ISO time. */
  expiresAt: string;
}

export function issueConversationToken(
  secret: Buffer,
  claims: ConversationClaims,
  opts: { ttlSeconds: number; now: number },
): IssuedToken {
  const iat = Math.floor(opts.now / 1000);
  const payload: Payload = {
    sub: claims.conversationId,
    ext: claims.externalConversationId,
    wk: claims.widgetKeyId,
    cus: claims.customerId,
    idv: claims.verified ? 'verified' : 'anonymous',
    ...(claims.accountId ? { acc: claims.accountId } : {}),
    sst: claims.sessionStart,
    iat,
    exp: iat + opts.ttlSeconds,
  };
  return {
    token: jwt.sign(payload, secret, { algorithm: 'HS256', audience: AUDIENCE }),
    expiresAt: new Date(payload.exp * 1000).toISOString(),
  };
}

export type TokenCheck =
  | { ok: true; claims: ConversationClaims; expiresAt: number }
  /** Signed by us, but past its expiry (`expiredAt`, ms): only a refresh may still take it. */
  | { ok: false; reason: 'expired'; claims: ConversationClaims; expiredAt: number }
  | { ok: false; reason: 'invalid' };

function claimsOf(p: Partial<Payload>): ConversationClaims | undefined {
  const strings = [p.sub, p.ext, p.wk, p.cus];
  if (strings.some((s) => typeof s !== 'string' || s === '')) return undefined;
  if (typeof p.sst !== 'number' || typeof p.exp !== 'number') return undefined;
  if (p.idv !== 'verified' && p.idv !== 'anonymous') return undefined;
  return {
    conversationId: p.sub!,
    externalConversationId: p.ext!,
    widgetKeyId: p.wk!,
    customerId: p.cus!,
    verified: p.idv === 'verified',
    ...(typeof p.acc === 'string' && p.acc ? { accountId: p.acc } : {}),
    sessionStart: p.sst,
  };
}

/** Checks the signature, audience and expiry of a token at `now` (ms). */
export function checkConversationToken(secret: Buffer, token: string, now: number): TokenCheck {
  let payload: Partial<Payload>;
  try {
    payload = jwt.verify(token, secret, {
      algorithms: ['HS256'],
      audience: AUDIENCE,
      ignoreExpiration: true,
    }) as Partial<Payload>;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const claims = claimsOf(payload);
  if (!claims) return { ok: false, reason: 'invalid' };
  const expiresAt = payload.exp! * 1000;
  if (now >= expiresAt) return { ok: false, reason: 'expired', claims, expiredAt: expiresAt };
  return { ok: true, claims, expiresAt };
}

export type RefreshRefusal = 'invalid' | 'grace_passed' | 'session_over';

/**
 * Whether a token may be exchanged for a new one at `now` (ms): valid, or expired no longer
 * than `graceSeconds` ago, and within `sessionMaxSeconds` of the conversation's start.
 */
export function refreshRefusal(
  check: TokenCheck,
  opts: { graceSeconds: number; sessionMaxSeconds: number; now: number },
): RefreshRefusal | undefined {
  if (!check.ok && check.reason === 'invalid') return 'invalid';
  if (!check.ok && opts.now > check.expiredAt + opts.graceSeconds * 1000) return 'grace_passed';
  const claims = check.ok ? check.claims : (check as { claims: ConversationClaims }).claims;
  if (opts.now > (claims.sessionStart + opts.sessionMaxSeconds) * 1000) return 'session_over';
  return undefined;
}
