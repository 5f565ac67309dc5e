import { addressKey, lockoutMessage, retryIn } from './sign-in';

describe('retryIn: when to try again', () => {
  it('says seconds under a minute and a half, minutes (rounded up) after', () => {
    expect(retryIn(1)).toBe('in 1 second');
    expect(retryIn(40_000)).toBe('in 40 seconds');
    expect(retryIn(89_000)).toBe('in 89 seconds');
    expect(retryIn(90_000)).toBe('in 2 minutes');
    expect(retryIn(15 * 60_000)).toBe('in 15 minutes');
    expect(retryIn(14 * 60_000 + 1)).toBe('in 15 minutes');
  });
});

describe('lockoutMessage', () => {
  it('names the limit and the time after which to try again', () => {
    const now = new Date('2026-03-04T10:00:00.000Z');
    expect(lockoutMessage('login', 15 * 60_000, now)).toBe(
      'too many failed sign-ins for this login: try again in 15 minutes (after 2026-03-04T10:15:00.000Z)',
    );
    expect(lockoutMessage('address', 30_500, now)).toBe(
      'too many failed sign-ins from your address: try again in 31 seconds (after 2026-03-04T10:00:31.000Z)',
    );
  });
});

describe('addressKey: what a client address is counted under', () => {
  it('counts an IPv4 address as itself, also when it arrives IPv4-mapped', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });

  it('keeps anything else as it is', () => {
    expect(addressKey('unknown')).toBe('unknown');
  });
});
