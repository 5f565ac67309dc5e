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
import { loadPolicyFile, type Policy } from '../domain/policy.js';
import {
  activePolicy,
  currentActivation,
  evolveHistory,
  initialHistory,
  type Activation,
  type PolicyHistory,
} from '../domain/policy-history.js';
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
 */
@Injectable()
export class PolicyStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private seedPolicy: Policy;
  private history: PolicyHistory;
  private follower?: TopicFollower;
  private readonly caughtUp: Promise<void>;
  private markCaughtUp!: (error?: Error) => void;
  readonly file: string;
  /** Checks a reloaded policy must pass before it replaces the one in force (e.g. the directory's names). */
  private readonly checks: ((policy: Policy, source: string) => void)[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly bus: Bus,
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
    watchFile(this.file, { interval: config.DECIDER_POLICY_POLL_MS }, () => this.reload());
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
    this.markCaughtUp();
    const activation = currentActivation(this.history);
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

  /** A check (throwing PolicyError) every reloaded policy must pass. */
  addCheck(check: (policy: Policy, source: string) => void): void {
    this.checks.push(check);
  }

  reload(): void {
    try {
      const next = loadPolicyFile(this.file);
      for (const check of this.checks) check(next, this.file);
      const previous = this.seedPolicy.version;
      this.seedPolicy = next;
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
