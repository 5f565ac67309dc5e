import { addressRefusal, ipLiteral, isCidr, rangeOf, refusalMessage } from './webhook-target';

const publicOnly = { allowPrivate: false, allowedCidrs: [] };

describe('addressRefusal: where a webhook may be sent', () => {
  it.each([['93.184.215.14'], ['8.8.8.8'], ['2606:4700:4700::1111'], ['::ffff:93.184.215.14']])(
    'lets the public address %s through',
    (address) => {
      expect(addressRefusal(address, publicOnly)).toBeUndefined();
    },
  );

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::7f00:1', 'IPv4-compatible'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::1', '6to4'],
    ['ff02::1', 'multicast'],
  ])('refuses %s (%s)', (address, range) => {
    expect(rangeOf(address)).toBe(range);
    expect(addressRefusal(address, publicOnly)).toBe(`${address} is a ${range} address`);
  });

  it('lets anything through when the operator allows private targets', () => {
    const policy = { allowPrivate: true, allowedCidrs: [] };
    for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', 'fd00::1'])
      expect(addressRefusal(a, policy)).toBeUndefined();
  });

  it('lets the allowed ranges through, and only those', () => {
    const policy = { allowPrivate: false, allowedCidrs: ['10.20.0.0/16', 'fd00:1::/64'] };
    expect(addressRefusal('10.20.3.4', policy)).toBeUndefined();
    expect(addressRefusal('::ffff:10.20.3.4', policy)).toBeUndefined();
    expect(addressRefusal('fd00:1::5', policy)).toBeUndefined();
    expect(addressRefusal('10.21.0.1', policy)).toBe('10.21.0.1 is a private address');
    expect(addressRefusal('fd00:2::5', policy)).toBe('fd00:2::5 is a unique-local address');
    expect(addressRefusal('127.0.0.1', policy)).toBe('127.0.0.1 is a loopback address');
  });

  it('refuses what is not an address', () => {
    expect(addressRefusal('example.com', publicOnly)).toBe('example.com is not an IP address');
  });
});

describe('the helpers', () => {
  it('recognises IP literals in URL host names, IPv6 in brackets', () => {
    expect(ipLiteral('127.0.0.1')).toBe('127.0.0.1');
    expect(ipLiteral('[::1]')).toBe('::1');
    expect(ipLiteral('example.com')).toBeUndefined();
  });

  it('validates CIDR ranges', () => {
    expect(isCidr('10.0.0.0/8')).toBe(true);
    expect(isCidr('fd00::/8')).toBe(true);
    expect(isCidr('10.0.0.0')).toBe(false);
    expect(isCidr('10.0.0.0/33')).toBe(false);
  });

  it('says how an operator can allow a refused target', () => {
    expect(refusalMessage('hooks.internal', '10.0.0.5 is a private address')).toBe(
      'hooks.internal resolves to an address that is refused: 10.0.0.5 is a private address; webhooks go to public addresses only (an operator can allow others with DESK_WEBHOOK_ALLOW_PRIVATE or DESK_WEBHOOK_ALLOWED_CIDRS)',
    );
    expect(refusalMessage('10.0.0.5', '10.0.0.5 is a private address')).toMatch(
      /^10\.0\.0\.5 is a private address; webhooks go/,
    );
  });
});
