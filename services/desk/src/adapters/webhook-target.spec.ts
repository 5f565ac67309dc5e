import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RefusedTarget, WebhookTargets, type Resolver } from './webhook-target';

/** A local HTTP server that counts the requests reaching it. */
class Local {
  hits = 0;
  private readonly server: Server = createServer((req, res) => {
    this.hits++;
    req.resume();
    res.writeHead(204).end();
  });
  start = () => new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  get port() {
    return (this.server.address() as AddressInfo).port;
  }
  close = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

/** A resolver answering from a script: each call takes the next answer (the last one repeats). */
const scripted = (...answers: string[][]): Resolver => {
  let call = 0;
  return async () => {
    const next = answers[Math.min(call++, answers.length - 1)]!;
    return next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
};

describe('WebhookTargets: the check at registration and at delivery (a local server, a scripted resolver)', () => {
  const local = new Local();
  beforeAll(() => local.start());
  afterAll(() => local.close());

  it('refuses a name that resolved to a public address at registration and to loopback at delivery (DNS rebinding)', async () => {
    const targets = new WebhookTargets(
      { allowPrivate: false, allowedCidrs: [] },
      scripted(['93.184.215.14'], ['127.0.0.1']),
    );
    const url = `http://rebinding.test:${local.port}/hook`;
    expect(await targets.refusal(url)).toBeUndefined();
    await expect(targets.post(url, {}, '{}', 2000)).rejects.toThrow(
      'rebinding.test resolves to an address that is refused: 127.0.0.1 is a loopback address',
    );
    expect(local.hits).toBe(0);
  });

  it('refuses a name with any refused address among its answers', async () => {
    const targets = new WebhookTargets(
      { allowPrivate: false, allowedCidrs: [] },
      scripted(['93.184.215.14', '10.0.0.8']),
    );
    expect(await targets.refusal('https://mixed.test/hook')).toMatch(/10\.0\.0\.8 is a private/);
  });

  it('connects to the address it checked, not to a fresh resolution', async () => {
    // The name exists only in the scripted resolver: the request reaches the local server
    // only if the socket uses the checked address.
    const targets = new WebhookTargets(
      { allowPrivate: false, allowedCidrs: ['127.0.0.0/8'] },
      scripted(['127.0.0.1']),
    );
    const before = local.hits;
    const status = await targets.post(
      `http://only-in-the-script.test:${local.port}/hook`,
      { 'content-type': 'application/json' },
      '{"ok":true}',
      2000,
    );
    expect(status).toBe(204);
    expect(local.hits).toBe(before + 1);
  });

  it('checks an IP address in the URL before connecting', async () => {
    const targets = new WebhookTargets({ allowPrivate: false, allowedCidrs: [] }, scripted([]));
    const before = local.hits;
    await expect(
      targets.post(`http://127.0.0.1:${local.port}/hook`, {}, '{}', 2000),
    ).rejects.toBeInstanceOf(RefusedTarget);
    expect(local.hits).toBe(before);
  });

  it('says when a name does not resolve', async () => {
    const targets = new WebhookTargets({ allowPrivate: false, allowedCidrs: [] }, async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    });
    expect(await targets.refusal('https://nowhere.test/hook')).toBe(
      'nowhere.test does not resolve (ENOTFOUND)',
    );
  });
});
