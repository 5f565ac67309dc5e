import { unwatchFile, watchFile } from 'node:fs';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import { DEFAULT_POLICY_FILE } from '../domain/decide.js';
import { loadPolicyFile, type Policy } from '../domain/policy.js';

/**
 * The policy in force: loaded from DECIDER_POLICY_FILE at start-up (an invalid
 * file stops the service, naming the problem) and reloaded whenever the file
 * changes; a changed file that does not validate is logged and the policy in
 * force stays.
 */
@Injectable()
export class PolicyStore implements OnApplicationShutdown {
  private policy: Policy;
  readonly file: string;
  /** Checks a reloaded policy must pass before it replaces the one in force (e.g. the directory's names). */
  private readonly checks: ((policy: Policy, source: string) => void)[] = [];

  constructor(
    @Inject(CONFIG) config: Config,
    private readonly logger: JsonLogger,
  ) {
    this.file = config.DECIDER_POLICY_FILE || DEFAULT_POLICY_FILE;
    this.policy = loadPolicyFile(this.file);
    logger.log('escalation policy loaded', { file: this.file, version: this.policy.version });
    watchFile(this.file, { interval: config.DECIDER_POLICY_POLL_MS }, () => this.reload());
  }

  get current(): Policy {
    return this.policy;
  }

  /** A check (throwing PolicyError) every reloaded policy must pass. */
  addCheck(check: (policy: Policy, source: string) => void): void {
    this.checks.push(check);
  }

  reload(): void {
    try {
      const next = loadPolicyFile(this.file);
      for (const check of this.checks) check(next, this.file);
      const previous = this.policy.version;
      this.policy = next;
      this.logger.log('escalation policy reloaded', {
        file: this.file,
        previous,
        version: next.version,
      });
    } catch (err) {
      this.logger.error(
        'escalation policy not reloaded: the file is invalid; the policy in force stays',
        {
          file: this.file,
          version: this.policy.version,
          error: (err as Error).message,
        },
      );
    }
  }

  onApplicationShutdown(): void {
    unwatchFile(this.file);
  }
}
