import { hostname } from 'node:os';
import { Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import type { DirectoryVocabulary as VocabularyRecord } from '@support/contracts';
import { JsonLogger, replayTopic } from '@support/service-kit';
import {
  PolicyError,
  validatePolicyAgainstDirectory,
  type DirectoryVocabulary,
  type Policy,
  type PolicyDocument,
} from '../domain/policy.js';
import type { PolicyIssue } from '../domain/policy-check.js';
import { PolicyStore } from './policy-store.js';

const EMPTY: DirectoryVocabulary = { teams: [], skills: [] };

/**
 * The router's vocabulary of teams and skills, kept from the compacted
 * directory.teams topic (one record, the whole vocabulary). At start-up the
 * topic is read to its end and the policy file checked against it: a rule
 * naming an unknown team or skill stops the service, naming the rule. Then
 * every replica follows the topic (a consumer group of its own, from the
 * beginning) and checks the policy in force again on each change; a policy
 * reloaded from its file is checked before it replaces the one in force.
 * Until the router has published anything, nothing is known and nothing is
 * checked (the decider does not wait for the router).
 */
@Injectable()
export class DirectoryVocabularyStore implements OnModuleInit, OnApplicationBootstrap {
  private vocabulary?: DirectoryVocabulary;
  /** The last offset per partition read at start-up: the consumer skips up to there, never going back to older records. */
  private readonly readUpTo = new Map<number, bigint>();

  constructor(
    private readonly bus: Bus,
    private readonly policies: PolicyStore,
    private readonly logger: JsonLogger,
  ) {}

  /** The latest vocabulary (empty until the router has published one). */
  get current(): DirectoryVocabulary {
    return this.vocabulary ?? EMPTY;
  }

  /** Whether the router has published a vocabulary yet. */
  get known(): boolean {
    return this.vocabulary !== undefined;
  }

  /**
   * What is wrong with a policy against the directory (nothing while no
   * vocabulary is known): for the policy API's 400 and the file's load.
   */
  issues(policy: Pick<PolicyDocument, 'rules'>): PolicyIssue[] {
    return this.vocabulary ? validatePolicyAgainstDirectory(policy, this.vocabulary) : [];
  }

  /** Throws PolicyError naming every unknown name, as a policy file that does not load. */
  check(policy: Policy, source: string): void {
    const issues = this.issues(policy.document);
    if (issues.length) throw new PolicyError(source, issues);
  }

  async onModuleInit(): Promise<void> {
    await replayTopic(this.bus, Topics.directoryTeams, async (value, partition, offset) => {
      this.take(value);
      this.readUpTo.set(partition, BigInt(offset));
    });
    this.check(this.policies.current, this.policies.file);
    this.policies.addCheck((policy, source) => this.check(policy, source));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      // Every replica keeps the whole vocabulary: a group of its own, from the beginning.
      group: `directory-${hostname()}-${process.pid}`,
      topic: Topics.directoryTeams,
      fromBeginning: true,
      partitionsConcurrently: 1,
      handle: async ({ value, partition, offset }) => {
        if (BigInt(offset) <= (this.readUpTo.get(partition) ?? -1n)) return;
        this.take(value);
        const issues = this.issues(this.policies.current.document);
        if (issues.length)
          this.logger.error(
            'the policy in force names teams or skills the directory no longer knows',
            { version: this.policies.current.version, issues },
          );
      },
    });
  }

  private take(value: VocabularyRecord): void {
    this.vocabulary = {
      teams: value.teams.map((t) => ({ name: t.name, skills: [...t.skills] })),
      skills: value.skills.map((k) => ({ name: k.name })),
    };
  }
}
