import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Partitioners, type Producer } from 'kafkajs';
import { Bus, encodeHeaders, Topics } from '@support/bus';
import { endPublishSpan } from '@support/telemetry';
import {
  AccountSchema,
  create,
  SCHEMA_VERSION,
  toBinary,
  toJson,
  type Account,
} from '@support/contracts';
import { AuditTrail, CONFIG, REDIS } from '@support/service-kit';
import type { Config } from '../config.js';
import { AccountDirectory } from './accounts.js';
import type { Actor } from './actor.js';

const POLL_MS = 25;

/**
 * Account writes over HTTP: an upsert or a tombstone published on
 * crm.accounts (so every replica applies it through its existing consumer,
 * and the compacted topic stays the only truth), answered once the account
 * store the replicas share shows it, so the next decision sees it. A write
 * not seen applied within DECIDER_ACCOUNT_APPLY_MS is reported as such: it is
 * on the topic and will be applied. Every write is recorded on admin.audit
 * (`account.upserted`, `account.deleted`) once it is on the topic.
 */
@Injectable()
export class AccountWriter {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
    private readonly audit: AuditTrail,
  ) {}

  /** The account as the decider has it (from the topic, or cached from the CRM lookup). */
  async stored(accountId: string): Promise<Account | undefined> {
    const bytes = await this.redis.getBuffer(AccountDirectory.key(accountId));
    if (!bytes || bytes.equals(AccountDirectory.UNKNOWN)) return undefined;
    return AccountDirectory.decode(bytes);
  }

  /** Publishes the account; true once the shared store holds exactly it. */
  async upsert(account: Account, actor: Actor): Promise<boolean> {
    const value = create(AccountSchema, account);
    await this.bus.publish({ topic: Topics.accounts, key: value.accountId, value });
    // The fields given (the account replaces the one before): names only, values stay in the CRM.
    const fields = Object.keys(toJson(AccountSchema, value) as object).filter(
      (f) => f !== 'accountId',
    );
    await this.record(actor, 'upserted', value.accountId, { fields });
    const bytes = Buffer.from(toBinary(AccountSchema, value));
    return this.until(async () =>
      Boolean((await this.redis.getBuffer(AccountDirectory.key(value.accountId)))?.equals(bytes)),
    );
  }

  /** Publishes a tombstone; true once the shared store no longer holds the account. */
  async remove(accountId: string, actor: Actor): Promise<boolean> {
    const producer = await this.tombstoneProducer();
    const eventId = randomUUID();
    const headers = encodeHeaders({
      eventId,
      eventType: `${AccountSchema.typeName}.tombstone`,
      schemaVersion: SCHEMA_VERSION,
      correlationId: eventId,
      causationId: '',
      time: new Date().toISOString(),
      producer: this.bus.service,
    });
    const record = { topic: Topics.accounts.name, key: accountId };
    try {
      await producer.send({
        topic: record.topic,
        acks: -1,
        messages: [{ key: accountId, value: null, headers }],
      });
    } catch (err) {
      endPublishSpan(headers, record, err);
      throw err;
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    endPublishSpan(headers, record); // the publish span encodeHeaders started, when tracing is on
    await this.record(actor, 'deleted', accountId);
    return this.until(async () => (await this.redis.exists(AccountDirectory.key(accountId))) === 0);
  }

  private async record(
    actor: Actor,
    verb: 'upserted' | 'deleted',
    accountId: string,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record({
      actor: actor.name,
      action: `account.${verb}`,
      resourceType: 'account',
      resourceId: accountId,
      detail: { ...detail, via: actor.keyId },
    });
  }

  private async until(applied: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + this.config.DECIDER_ACCOUNT_APPLY_MS;
    for (;;) {
      if (await applied()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /**
   * The bus publishes values only; a tombstone needs a record with none. Connected for the one
   * record: an idle kafkajs connection polls its request queue every millisecond.
   */
  private async tombstoneProducer(): Promise<Producer> {
    // The bus's partitioner (murmur2, as the Java client): the tombstone lands where the account is.
    const producer = this.bus.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return producer;
  }
}
