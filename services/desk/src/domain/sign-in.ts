import ipaddr from 'ipaddr.js';

/** What a lockout applies to: the login tried, or the address the attempts came from. */
export type LockoutScope = 'login' | 'address';

/** "in 15 minutes", "in 40 seconds": how long until the next attempt is allowed. */
export function retryIn(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minutes`;
}

/** The 429's message: which limit was hit and when to try again (the same for unknown logins). */
export function lockoutMessage(scope: LockoutScope, ms: number, now = new Date()): string {
  const who = scope === 'login' ? 'for this login' : 'from your address';
  const at = new Date(now.getTime() + Math.max(1000, Math.ceil(ms / 1000) * 1000));
  return `too many failed sign-ins ${who}: try again ${retryIn(ms)} (after ${at.toISOString()})`;
}

/**
 * The key a client address is counted under: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4), an IPv6 address by its /64, which one client usually has all of.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}
