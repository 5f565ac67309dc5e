import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Bus, DIRECTORY_VOCABULARY_KEY, InvalidRecordError, Topics } from '@support/bus';
import type { DirectoryVocabulary as VocabularyRecord } from '@support/contracts';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';
import {
  validatePolicyAgainstDirectory,
  type DirectoryVocabulary,
  type PolicyDocument,
} from '../domain/policy.js';
import type { PolicyIssue } from '../domain/policy-check.js';
import { TopicFollower } from './topic-follower.js';

const EMPTY: DirectoryVocabulary = { teams: [], skills: [] };

/**
 * The router's vocabulary of teams and skills, kept from the compacted
 * directory.teams topic (one record keyed "vocabulary", the whole vocabulary: a
 * record of another key is dead-lettered, a tombstone of another key changes
 * nothing), followed by every replica with the same TopicFollower as
 * policy.versions. It is read to its end before the application bootstraps
 * (DECIDER_POLICY_CATCH_UP_MS), so the policy in force is checked against it
 * at start-up (PolicyStore); later changes are passed to the `onChange`
 * listeners. Until the router has published anything, nothing is known and
 * nothing is checked (the decider does not wait for the router).
 */
@Injectable()
export class DirectoryVocabularyStore implements OnModuleInit, OnApplicationShutdown {
  private vocabulary?: DirectoryVocabulary;
  private follower?: TopicFollower;
  /** Set once the topic has been read to the end it had at start-up: later records are changes. */
  private following = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly bus: Bus,
    @Inject(CONFIG) private readonly config: Config,
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
   * vocabulary is known), each issue naming the rule and its field.
   */
  issues(policy: Pick<PolicyDocument, 'rules'>): PolicyIssue[] {
    return this.vocabulary ? validatePolicyAgainstDirectory(policy, this.vocabulary) : [];
  }

  /** Called after each change of the vocabulary once this replica has caught up. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async onModuleInit(): Promise<void> {
    this.follower = await TopicFollower.start(this.bus, {
      topic: Topics.directoryTeams,
      name: 'directory',
      handle: ({ key, value }) => {
        if (key !== DIRECTORY_VOCABULARY_KEY)
          throw new InvalidRecordError(
            `not the vocabulary: keyed "${key}", where directory.teams holds one record keyed "${DIRECTORY_VOCABULARY_KEY}"`,
          );
        this.take(value);
      },
      // The router removed its vocabulary: nothing is known, nothing is checked.
      onTombstone: (key) => {
        if (key === DIRECTORY_VOCABULARY_KEY) this.take(undefined);
      },
    });
    await this.follower.catchUp(this.config.DECIDER_POLICY_CATCH_UP_MS);
    this.following = true;
  }

  async onApplicationShutdown(): Promise<void> {
    // The bus has stopped its consumers by now (service-kit's beforeApplicationShutdown).
    await this.follower?.forget();
  }

  private take(value: VocabularyRecord | undefined): void {
    this.vocabulary = value && {
      teams: value.teams.map((t) => ({ name: t.name, skills: [...t.skills] })),
      skills: value.skills.map((k) => ({ name: k.name })),
    };
    if (this.following) for (const listener of this.listeners) listener();
  }
}
