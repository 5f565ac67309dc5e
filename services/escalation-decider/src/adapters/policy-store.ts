import { unwatchFile, watchFile } from 'node:fs';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import type { PolicyRecord } from '@support/contracts';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import { DEFAULT_POLICY_FILE } from '../domain/decide.js';
import { loadPolicyFile, PolicyError, type Policy } from '../domain/policy.js';
import type { PolicyIssue } from '../domain/policy-check.js';
import {
  activePolicy,
  currentActivation,
  evolveHistory,
  initialHistory,
  type Activation,
  type PolicyHistory,
} from '../domain/policy-history.js';
import { DirectoryVocabularyStore } from './directory.js';
import { TopicFollower } from './topic-follower.js';

/**
 * The policy in force on this replica. Policy versions and their activations
 * live on the policy.versions topic, which every replica reads from the
 * beginning at start-up (it decides nothing before: see `ready`) and then
 * follows, so an activation reaches every replica without a restart. Until
 * the policy set has an activation, the policy file (DECIDER_POLICY_FILE) is
 * in force: loaded at start-up (an invalid file stops the service, naming
 * the problem) and reloaded whenever it changes (an invalid edit is logged and
 * the policy in force stays). Once a version is activated, the file is only
 * the seed.
 *
 * Beyond its own validation (parsePolicy), a policy must name only teams and
 * skills the router's directory knows: `issues()` is that one check, for the
 * file at start-up and on reload, and for the policy API (a candidate, an
 * activation, a rollback target).
 */
@Injectable()
export class PolicyStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private seedPolicy: Policy;
  private history: PolicyHistory;
  private follower?: TopicFollower;
  private readonly caughtUp: Promise<void>;
  private markCaughtUp!: (error?: Error) => void;
  readonly file: string;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly bus: Bus,
    private readonly directory: DirectoryVocabularyStore,
    private readonly logger: JsonLogger,
  ) {
    this.file = config.DECIDER_POLICY_FILE || DEFAULT_POLICY_FILE;
    this.seedPolicy = loadPolicyFile(this.file);
    this.history = initialHistory(config.DECIDER_POLICY_SET);
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.markCaughtUp = (error) => (error ? reject(error) : resolve());
    });
    this.caughtUp.catch(() => undefined);
    logger.log('escalation policy file loaded', {
      file: this.file,
      version: this.seedPolicy.version,
    });
    this.warnAbout(this.seedPolicy);
    watchFile(this.file, { interval: config.DECIDER_POLICY_POLL_MS }, () => this.reload());
    directory.onChange(() => this.recheck());
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.follower = await TopicFollower.start(this.bus, {
        topic: Topics.policyVersions,
        name: 'policy',
        handle: ({ value, offset }) => this.apply(value, offset),
      });
      await this.follower.catchUp(this.config.DECIDER_POLICY_CATCH_UP_MS);
    } catch (err) {
      this.markCaughtUp(err as Error);
      throw err;
    }
    const activation = currentActivation(this.history);
    if (!activation) {
      // The file is in force: like a file that does not parse, one naming unknown teams or skills
      // stops the service (the directory has been read to its end before this).
      const issues = this.issues(this.current);
      if (issues.length) {
        const error = new PolicyError(this.file, issues);
        this.markCaughtUp(error);
        throw error;
      }
    } else this.recheck();
    this.markCaughtUp();
    this.logger.log('escalation policy in force', {
      policySet: this.history.policySet,
      version: this.current.version,
      source: activation ? Topics.policyVersions.name : this.file,
      versions: this.history.versions.size,
    });
  }

  /** Resolves once this replica has read policy.versions to the end it had at start-up. */
  ready(): Promise<void> {
    return this.caughtUp;
  }

  /** Applies here everything policy.versions holds now (the barrier before a policy write is answered). */
  async catchUp(): Promise<void> {
    await this.caughtUp;
    await this.follower!.catchUp(this.config.DECIDER_POLICY_CATCH_UP_MS);
  }

  get current(): Policy {
    return activePolicy(this.history) ?? this.seedPolicy;
  }

  /** The activation in force; undefined while the file is. */
  get activation(): Activation | undefined {
    return currentActivation(this.history);
  }

  get versions(): PolicyHistory {
    return this.history;
  }

  get seed(): Policy {
    return this.seedPolicy;
  }

  get seedOrigin(): string {
    return `file:${this.file}`;
  }

  private apply(record: PolicyRecord, offset: string): void {
    const before = this.current.version;
    const { history, ignored } = evolveHistory(this.history, record);
    this.history = history;
    if (ignored && record.policySet === this.history.policySet)
      this.logger.warn('policy record ignored', { offset, reason: ignored });
    const activation = currentActivation(history);
    if (this.current.version !== before && activation)
      this.logger.log('escalation policy switched', {
        previous: before,
        version: activation.version,
        activationId: activation.activationId,
        kind: activation.kind,
        actor: activation.actor,
      });
  }

  /**
   * What keeps a valid policy document from being put in force here: the teams
   * and skills it names that the directory does not know (none while the router
   * has published no vocabulary). The one check for the file (start-up,
   * reload) and the API (candidate, activation, rollback).
   */
  issues(policy: Policy): PolicyIssue[] {
    return this.directory.issues(policy.document);
  }

  /**
   * The policy in force no longer matches the directory (it changed under it,
   * or an activated version was checked against an older one): logged; the
   * policy stays in force, since stopping would not bring the names back.
   */
  private recheck(): void {
    const issues = this.issues(this.current);
    if (issues.length)
      this.logger.error('the policy in force names teams or skills the directory does not know', {
        version: this.current.version,
        issues,
      });
  }

  /** Rules of a policy coming into force that can never fire (an empty review band). */
  private warnAbout(policy: Policy): void {
    if (policy.warnings.length)
      this.logger.warn('the escalation policy has rules that can never fire', {
        version: policy.version,
        warnings: policy.warnings,
      });
  }

  reload(): void {
    try {
      const next = loadPolicyFile(this.file);
      const issues = this.issues(next);
      if (issues.length) throw new PolicyError(this.file, issues);
      const previous = this.seedPolicy.version;
      this.seedPolicy = next;
      this.warnAbout(next);
      const active = currentActivation(this.history);
      this.logger.log(
        active
          ? 'escalation policy file reloaded; it is only the seed: a version activated on policy.versions is in force'
          : 'escalation policy reloaded',
        { file: this.file, previous, version: next.version, inForce: this.current.version },
      );
    } catch (err) {
      this.logger.error(
        'escalation policy file not reloaded: the file is invalid; the policy in force stays',
        { file: this.file, version: this.current.version, error: (err as Error).message },
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    unwatchFile(this.file);
    // The bus has stopped its consumers by now (service-kit's beforeApplicationShutdown).
    await this.follower?.forget();
  }
}
