import ipaddr from 'ipaddr.js';

/** Which webhook target addresses an operator allows beyond the public internet. */
export interface TargetPolicy {
  /** Any address (DESK_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Addresses in these ranges, e.g. an internal receiver's subnet (DESK_WEBHOOK_ALLOWED_CIDRS). */
  allowedCidrs: string[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Ranges ipaddr.js 1.x counts as unicast that are not on the public internet either. */
const MORE_RANGES: { name: string; cidr: [Address, number] }[] = [
  { name: 'benchmarking', cidr: ipaddr.parseCIDR('198.18.0.0/15') },
  { name: 'IPv4-compatible', cidr: ipaddr.parseCIDR('::/96') },
  { name: 'discard-only', cidr: ipaddr.parseCIDR('100::/64') },
];

const RANGE_NAMES: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  carrierGradeNat: 'carrier-grade NAT',
  reserved: 'reserved',
  rfc6145: 'IPv4-translated',
  rfc6052: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
};

export function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether a URL's host is an IP address (IPv6 without its brackets). */
export function ipLiteral(hostname: string): string | undefined {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return ipaddr.isValid(host) ? host : undefined;
}

function within(address: Address, cidr: [Address, number]): boolean {
  return (
    address.kind() === cidr[0].kind() &&
    (address as ipaddr.IPv4).match(cidr as [ipaddr.IPv4, number])
  );
}

/** The range an address is in: `unicast` for the public internet, else the special range's name. */
export function rangeOf(address: string): string {
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return RANGE_NAMES[range] ?? range;
  return MORE_RANGES.find((r) => within(parsed, r.cidr))?.name ?? 'unicast';
}

/**
 * Why a webhook may not be sent to this address; undefined when it may. Only public unicast
 * addresses pass, unless the operator allows private targets or the address is in an allowed
 * range: loopback, private, link-local (169.254.169.254, the cloud metadata service),
 * unique-local, unspecified, multicast and the other special ranges are refused.
 */
export function addressRefusal(address: string, policy: TargetPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  if (policy.allowPrivate) return undefined;
  const parsed = ipaddr.process(address);
  if (policy.allowedCidrs.some((c) => within(parsed, ipaddr.parseCIDR(c)))) return undefined;
  const range = rangeOf(address);
  if (range === 'unicast') return undefined;
  return `${address} is a ${range} address`;
}

/** The sentence a refused target gets (a 400 at registration, the delivery's error later). */
export function refusalMessage(host: string, reason: string): string {
  const via = ipLiteral(host) ? '' : `${host} resolves to an address that is refused: `;
  return `${via}${reason}; webhooks go to public addresses only (an operator can allow others with DESK_WEBHOOK_ALLOW_PRIVATE or DESK_WEBHOOK_ALLOWED_CIDRS)`;
}
