import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  addressRefusal,
  ipLiteral,
  refusalMessage,
  type TargetPolicy,
} from '../domain/webhook-target.js';

/** Resolves a host name to all its addresses (node:dns by default; replaceable in tests). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/** A target that must not be used; the message says why and how an operator can allow it. */
export class RefusedTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedTarget';
  }
}

/**
 * Where webhooks may be sent: public addresses, unless the operator allows more. The check runs
 * at registration and again at delivery, where it is the socket's own DNS lookup, so the
 * connection goes to exactly the address that was checked (a name that resolves to a public
 * address for the check and a private one for the connection, DNS rebinding, gets nowhere).
 */
export class WebhookTargets {
  constructor(
    private readonly policy: TargetPolicy,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /** The addresses a host may be reached at; throws RefusedTarget if any of them is refused. */
  async addresses(hostname: string): Promise<LookupAddress[]> {
    const literal = ipLiteral(hostname);
    const found = literal
      ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
      : await this.resolve(hostname);
    if (found.length === 0) throw new RefusedTarget(`${hostname} does not resolve`);
    for (const a of found) {
      const reason = addressRefusal(a.address, this.policy);
      if (reason) throw new RefusedTarget(refusalMessage(hostname, reason));
    }
    return found;
  }

  /** Why a URL may not be registered (400 naming `url`); undefined when it may. */
  async refusal(url: string): Promise<string | undefined> {
    try {
      await this.addresses(new URL(url).hostname);
      return undefined;
    } catch (err) {
      if (err instanceof RefusedTarget) return err.message;
      return `${new URL(url).hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  }

  /** net's lookup option: resolves through the check, for one address or all of them. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.addresses(hostname).then(
      (found) => {
        const wanted = options.family ? found.filter((a) => a.family === options.family) : found;
        if (wanted.length === 0)
          return callback(
            Object.assign(new Error(`${hostname} has no IPv${options.family} address`), {
              code: 'ENOTFOUND',
            }),
            '',
          );
        if (options.all)
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, ''),
    );
  };

  /**
   * POSTs the body; resolves with the HTTP status (redirects are not followed). Rejects with
   * RefusedTarget before connecting to a refused address, or with the network error.
   */
  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<number> {
    const target = new URL(url);
    // An IP address never reaches the lookup: it is checked here.
    if (ipLiteral(target.hostname)) await this.addresses(target.hostname);
    const client = target.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = client.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: this.lookup,
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
