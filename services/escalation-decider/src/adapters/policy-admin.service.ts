import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Bus, Topics, type Outgoing } from '@support/bus';
import {
  create,
  PolicyActivationKind,
  PolicyRecordSchema,
  type PolicyRecord,
} from '@support/contracts';
import { AuditTrail, JsonLogger } from '@support/service-kit';
import { KeyedMutex } from '@support/stream';
import type { Policy } from '../domain/policy.js';
import {
  currentActivation,
  listVersions,
  rollbackTarget,
  type Activation,
  type VersionSummary,
} from '../domain/policy-history.js';
import { canonicalJson } from '../domain/policy-version.js';
import type { Actor } from './actor.js';
import { invalidPolicy } from './policy-input.js';
import { PolicyStore } from './policy-store.js';
import { NotCaughtUp } from './topic-follower.js';

export interface ActivationAnswer {
  /** False when the version was in force already (nothing was published). */
  changed: boolean;
  activation?: Activation;
  /** The version in force on this replica once the activation was applied here. */
  active: string;
}

/**
 * The policy's write side: candidates stored as immutable versions,
 * activations and rollbacks, each published on policy.versions and answered
 * only once this replica has applied it (PolicyStore.catchUp), so the caller's
 * next decision here uses what it was told. One write at a time per replica.
 * A candidate, and the version an activation or a rollback puts in force, must
 * pass PolicyStore.issues (the directory's teams and skills, as a reloaded
 * policy file must). Each change is recorded on admin.audit.
 */
@Injectable()
export class PolicyAdmin {
  private readonly writes = new KeyedMutex();

  constructor(
    private readonly bus: Bus,
    private readonly store: PolicyStore,
    private readonly audit: AuditTrail,
    private readonly logger: JsonLogger,
  ) {}

  /** Every version, with this replica up to date with the topic. */
  async list(): Promise<VersionSummary[]> {
    await this.caughtUp();
    return listVersions(this.store.versions, this.store.seed, this.store.seedOrigin);
  }

  /** A version stored on the topic, or the policy file while it is in force. */
  async find(
    version: string,
  ): Promise<{ policy: Policy; source: string; summary: VersionSummary }> {
    const summary = (await this.list()).find((v) => v.version === version);
    const stored = this.store.versions.versions.get(version);
    const policy =
      stored?.policy ?? (version === this.store.seed.version ? this.store.seed : undefined);
    if (!summary || !policy) throw new NotFoundException(`no policy version ${version}`);
    return { policy, source: stored?.source ?? '', summary };
  }

  /** Stores a validated candidate; `created` is false when the same document is stored already. */
  submit(
    candidate: Policy,
    source: string,
    actor: Actor,
  ): Promise<{ created: boolean; version: VersionSummary }> {
    const issues = this.store.issues(candidate);
    if (issues.length) throw invalidPolicy(issues);
    return this.writes.run('policy', async () => {
      await this.caughtUp();
      const created = !this.store.versions.versions.has(candidate.version);
      if (created) {
        await this.publish(this.versionRecord(candidate, source, actor, 'api'));
        await this.caughtUp();
        await this.recordChange(actor, 'submitted', candidate.version);
      }
      const version = listVersions(
        this.store.versions,
        this.store.seed,
        this.store.seedOrigin,
      ).find((v) => v.version === candidate.version);
      return { created, version: version! };
    });
  }

  activate(version: string, actor: Actor, reason: string): Promise<ActivationAnswer> {
    return this.writes.run('policy', async () => {
      await this.caughtUp();
      if (!this.store.versions.versions.has(version) && version !== this.store.current.version)
        throw new NotFoundException(`no policy version ${version}: submit it first`);
      return this.put(version, 'activate', actor, reason);
    });
  }

  /** Activates `requested`, or the version in force before the current one, again. */
  rollback(requested: string | undefined, actor: Actor, reason: string): Promise<ActivationAnswer> {
    return this.writes.run('policy', async () => {
      await this.caughtUp();
      const target = rollbackTarget(this.store.versions, requested);
      if (typeof target !== 'string')
        throw target.code === 'not_found'
          ? new NotFoundException(target.message)
          : new ConflictException(target.message);
      return this.put(target, 'rollback', actor, reason);
    });
  }

  private async put(
    version: string,
    kind: Activation['kind'],
    actor: Actor,
    reason: string,
  ): Promise<ActivationAnswer> {
    const previous = this.store.current;
    if (previous.version === version) return { changed: false, active: version };
    this.checkAgainstDirectory(version, kind);
    const records: PolicyRecord[] = [];
    // The file in force so far becomes a stored version, so that it can be rolled back to.
    if (
      !currentActivation(this.store.versions) &&
      !this.store.versions.versions.has(previous.version)
    )
      records.push(this.versionRecord(previous, '', actor, this.store.seedOrigin));
    const activationId = randomUUID();
    records.push(
      create(PolicyRecordSchema, {
        policySet: this.store.versions.policySet,
        record: {
          case: 'activation',
          value: {
            activationId,
            version,
            previousVersion: previous.version,
            kind:
              kind === 'rollback' ? PolicyActivationKind.ROLLBACK : PolicyActivationKind.ACTIVATE,
            actor: actor.name,
            keyId: actor.keyId,
            activatedAt: new Date().toISOString(),
            reason,
          },
        },
      }),
    );
    await this.publish(...records);
    await this.caughtUp();
    await this.recordChange(actor, kind === 'rollback' ? 'rolled_back' : 'activated', version, {
      previous: previous.version,
      activationId,
      reason: reason || undefined,
    });
    const activation = this.store.versions.activations.find((a) => a.activationId === activationId);
    return { changed: true, activation, active: this.store.current.version };
  }

  /**
   * A stored version may name teams or skills the directory has dropped since
   * it was submitted: such a version is not put in force (409 with the issues,
   * as the 400 of a candidate names them).
   */
  private checkAgainstDirectory(version: string, kind: Activation['kind']): void {
    const policy =
      this.store.versions.versions.get(version)?.policy ??
      (version === this.store.seed.version ? this.store.seed : undefined);
    if (!policy) return;
    const issues = this.store.issues(policy);
    if (issues.length)
      throw new ConflictException({
        error: 'invalid_policy',
        message: `version ${version} names teams or skills the directory does not know (any more): not ${kind === 'rollback' ? 'rolled back to' : 'activated'}`,
        issues,
      });
  }

  /**
   * The one place a policy change is audited (submit, activate, rollback): on
   * admin.audit (`policy.submitted`, `policy.activated`, `policy.rolled_back`,
   * resource `policy` / the policy set, so one set's changes stay in order),
   * and as a log line.
   */
  private async recordChange(
    actor: Actor,
    verb: 'submitted' | 'activated' | 'rolled_back',
    version: string,
    change: { previous?: string; activationId?: string; reason?: string } = {},
  ): Promise<void> {
    const policySet = this.store.versions.policySet;
    const detail = { version, ...change, via: actor.keyId };
    this.logger.log('policy change', { actor: actor.name, action: verb, policySet, ...detail });
    await this.audit.record({
      actor: actor.name,
      action: `policy.${verb}`,
      resourceType: 'policy',
      resourceId: policySet,
      detail,
    });
  }

  private versionRecord(
    policy: Policy,
    source: string,
    actor: Actor,
    origin: string,
  ): PolicyRecord {
    const fromFile = origin !== 'api';
    return create(PolicyRecordSchema, {
      policySet: this.store.versions.policySet,
      record: {
        case: 'version',
        value: {
          version: policy.version,
          documentJson: canonicalJson(policy.document),
          source,
          author: fromFile ? origin : actor.name,
          keyId: fromFile ? '' : actor.keyId,
          createdAt: new Date().toISOString(),
          origin,
        },
      },
    });
  }

  private async publish(...records: PolicyRecord[]): Promise<void> {
    const set = this.store.versions.policySet;
    await this.bus.publish(
      ...records.map((value): Outgoing<typeof PolicyRecordSchema> => ({
        topic: Topics.policyVersions,
        key:
          value.record.case === 'version'
            ? `${set}/version/${value.record.value.version}`
            : `${set}/activation/${value.record.case === 'activation' ? value.record.value.activationId : ''}`,
        value,
      })),
    );
  }

  private async caughtUp(): Promise<void> {
    try {
      await this.store.catchUp();
    } catch (err) {
      if (err instanceof NotCaughtUp) throw new ServiceUnavailableException(err.message);
      throw err;
    }
  }
}
