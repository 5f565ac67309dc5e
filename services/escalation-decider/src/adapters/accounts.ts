import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus, Topics } from '@support/bus';
import {
  AccountSchema,
  create,
  fromBinary,
  fromJson,
  toBinary,
  type Account,
  type JsonValue,
} from '@support/contracts';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { replayTopic } from '@support/stream';
import type { Config } from '../config.js';
import type { AccountLookup } from '../domain/context.js';

const lookups = new Counter({
  name: 'decider_account_lookups_total',
  help: 'Account lookups by where the answer came from',
  labelNames: ['source', 'result'],
});

/** What is cached for an account: its record, or the CRM's word that it does not exist. */
const UNKNOWN = Buffer.from('unknown');

export interface AccountAnswer {
  account?: Account;
  lookup: AccountLookup;
}

/**
 * The CRM connector: accounts arrive on the compacted crm.accounts topic
 * (key = account id, an empty value removes one) and are kept in Redis,
 * shared by every decider replica. An account the topic has not brought is
 * looked up over HTTP (CRM_LOOKUP_URL), and the answer cached, a "not found"
 * for a shorter time. A slow or failing CRM never stops a decision: the
 * decider goes on without the account and records it as unavailable.
 */
@Injectable()
export class AccountDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly inFlight = new Map<string, Promise<AccountAnswer>>();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  static key(accountId: string): string {
    return `crm:account:${accountId}`;
  }

  /** The cached word of the CRM that an account does not exist. */
  static readonly UNKNOWN = UNKNOWN;

  static decode(bytes: Uint8Array): Account {
    return fromBinary(AccountSchema, bytes);
  }

  /** Set once Redis holds every account the topic had brought (see loaded); gone when Redis loses its data. */
  static readonly LOADED = 'crm:accounts:loaded';

  private restoring?: Promise<void>;

  /**
   * Whether Redis holds the topic's accounts. When it does not (Redis lost its
   * data, or the directory never marked them), the compacted topic is read
   * again in the background, and the lookups meanwhile answer 'unavailable'
   * for an account Redis lacks (or ask the CRM, when there is one).
   */
  private async loaded(): Promise<boolean> {
    if ((await this.redis.exists(AccountDirectory.LOADED)) === 1) return true;
    this.restoring ??= this.restore()
      .catch((err: Error) =>
        this.logger.warn('accounts could not be read again from crm.accounts', {
          error: err.message,
        }),
      )
      .finally(() => (this.restoring = undefined));
    return false;
  }

  /** A read of the topic under way ends before the process does. */
  async onApplicationShutdown(): Promise<void> {
    await this.restoring;
  }

  private async restore(): Promise<void> {
    const started = Date.now();
    // To the topic's end: what the consumer has not handled yet it writes again, no older.
    const { records } = await replayTopic(
      this.bus,
      Topics.accounts,
      async (account) => {
        if (account.accountId) await this.store(account);
      },
      undefined,
      async (key) => {
        if (key) await this.redis.del(AccountDirectory.key(key));
      },
    );
    await this.redis.set(AccountDirectory.LOADED, new Date().toISOString());
    if (records)
      this.logger.warn('accounts were missing from Redis: read again from crm.accounts', {
        records,
        ms: Date.now() - started,
      });
  }

  private async store(account: Account): Promise<void> {
    await this.redis.set(
      AccountDirectory.key(account.accountId),
      Buffer.from(toBinary(AccountSchema, account)),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'accounts',
      topic: Topics.accounts,
      fromBeginning: true,
      validate: (a) => (!a.accountId ? 'account_id is required' : undefined),
      handle: async ({ key, value }) => {
        if (key && key !== value.accountId) {
          this.logger.warn('account record keyed by another id; stored under its account_id', {
            key,
            accountId: value.accountId,
          });
        }
        await this.store(value);
      },
      onTombstone: async (key) => {
        if (key) await this.redis.del(AccountDirectory.key(key));
      },
    });
    // Accounts Redis lost are read again now rather than at the first lookup.
    void this.loaded();
  }

  /** The account, from the topic's copy, the cache, or the CRM; never throws. */
  async get(accountId: string): Promise<AccountAnswer> {
    if (!accountId) return { lookup: 'none' };
    let cached: Buffer | null;
    let loaded: boolean;
    try {
      loaded = await this.loaded();
      cached = await this.redis.getBuffer(AccountDirectory.key(accountId));
    } catch (err) {
      this.logger.warn('account cache unavailable', { accountId, error: (err as Error).message });
      return { lookup: 'unavailable' };
    }
    if (cached) {
      if (cached.equals(UNKNOWN)) {
        lookups.inc({ source: 'cache', result: 'unknown' });
        return { lookup: 'unknown' };
      }
      try {
        lookups.inc({ source: 'cache', result: 'found' });
        return { account: fromBinary(AccountSchema, cached), lookup: 'found' };
      } catch {
        await this.redis.del(AccountDirectory.key(accountId)).catch(() => undefined);
      }
    }
    if (!this.config.CRM_LOOKUP_URL) {
      // While the topic's accounts are read again, a missing one may only be not back yet.
      const result = loaded ? 'unknown' : 'unavailable';
      lookups.inc({ source: 'none', result });
      return { lookup: result };
    }
    // Messages of one account arriving together share one request.
    let pending = this.inFlight.get(accountId);
    if (!pending) {
      pending = this.fetchFromCrm(accountId).finally(() => this.inFlight.delete(accountId));
      this.inFlight.set(accountId, pending);
    }
    return pending;
  }

  private async fetchFromCrm(accountId: string): Promise<AccountAnswer> {
    const url = this.config.CRM_LOOKUP_URL.replace('{accountId}', encodeURIComponent(accountId));
    const key = AccountDirectory.key(accountId);
    try {
      const res = await fetch(url, {
        headers: {
          accept: 'application/json',
          ...(this.config.CRM_LOOKUP_TOKEN
            ? { authorization: `Bearer ${this.config.CRM_LOOKUP_TOKEN}` }
            : {}),
        },
        signal: AbortSignal.timeout(this.config.CRM_LOOKUP_TIMEOUT_MS),
      });
      if (res.status === 404) {
        await this.redis.set(key, UNKNOWN, 'EX', this.config.CRM_NEGATIVE_TTL_S, 'NX');
        lookups.inc({ source: 'crm', result: 'unknown' });
        return { lookup: 'unknown' };
      }
      if (!res.ok) throw new Error(`CRM answered ${res.status}`);
      const json = (await res.json()) as JsonValue;
      const account = fromJson(AccountSchema, json, { ignoreUnknownFields: true });
      const stored = account.accountId ? account : create(AccountSchema, { ...account, accountId });
      // NX: a record the topic brought meanwhile is fresher than this answer.
      await this.redis.set(
        key,
        Buffer.from(toBinary(AccountSchema, stored)),
        'EX',
        this.config.CRM_CACHE_TTL_S,
        'NX',
      );
      lookups.inc({ source: 'crm', result: 'found' });
      return { account: stored, lookup: 'found' };
    } catch (err) {
      lookups.inc({ source: 'crm', result: 'unavailable' });
      this.logger.warn('CRM lookup failed; deciding without the account', {
        accountId,
        error: (err as Error).message,
      });
      return { lookup: 'unavailable' };
    }
  }
}
