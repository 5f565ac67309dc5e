import {
  checkConversationToken,
  issueConversationToken,
  refreshRefusal,
  type ConversationClaims,
} from './conversation-token';

const secret = Buffer.from('a-secret-for-conversation-tokens');
const start = Date.parse('2026-03-01T12:00:00Z');
const claims: ConversationClaims = {
  conversationId: '6f1c6c52-4b7c-5e2f-9a40-1c0d2b3e4f50',
  externalConversationId: 'widget:site:abc',
  widgetKeyId: 'site',
  customerId: 'anon-x',
  verified: false,
  sessionStart: start / 1000,
};
const ttlSeconds = 900;
const limits = { graceSeconds: 3600, sessionMaxSeconds: 86_400 };

describe('a widget conversation token', () => {
  const { token, expiresAt } = issueConversationToken(secret, claims, { ttlSeconds, now: start });

  it('carries its conversation, key and customer until it expires', () => {
    expect(expiresAt).toBe(new Date(start + ttlSeconds * 1000).toISOString());
    expect(checkConversationToken(secret, token, start + 1000)).toEqual({
      ok: true,
      claims,
      expiresAt: start + ttlSeconds * 1000,
    });
    expect(checkConversationToken(secret, token, start + ttlSeconds * 1000)).toMatchObject({
      ok: false,
      reason: 'expired',
      claims,
    });
  });

  it('is invalid when signed with another secret or altered', () => {
    const other = issueConversationToken(Buffer.from('another-secret-entirely'), claims, {
      ttlSeconds,
      now: start,
    }).token;
    const [h, , s] = token.split('.');
    const altered = `${h}.${Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')}.${s}`;
    for (const t of [other, altered, '', 'not-a-token'])
      expect(checkConversationToken(secret, t, start)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('is refreshed while valid or lately expired, within the session', () => {
    const at = (ms: number) =>
      refreshRefusal(checkConversationToken(secret, token, ms), { ...limits, now: ms });
    expect(at(start + 60_000)).toBeUndefined();
    expect(at(start + (ttlSeconds + 3599) * 1000)).toBeUndefined();
    expect(at(start + (ttlSeconds + 3601) * 1000)).toBe('grace_passed');
  });

  it('is never refreshed past the session, however often it was refreshed before', () => {
    const late = start + 86_400_000 + 1000;
    const fresh = issueConversationToken(secret, claims, { ttlSeconds, now: late - 10_000 }).token;
    expect(
      refreshRefusal(checkConversationToken(secret, fresh, late), { ...limits, now: late }),
    ).toBe('session_over');
  });
});
