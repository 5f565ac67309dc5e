import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { Bus, DIRECTORY_VOCABULARY_KEY, Topics } from '@support/bus';
import { create, DirectoryVocabularySchema, type DirectoryVocabulary } from '@support/contracts';
import { JsonLogger } from '@support/service-kit';
import { Roster } from './db/roster.js';

/** The one key of the compacted directory.teams topic: each record is the whole vocabulary. */
export const VOCABULARY_KEY = DIRECTORY_VOCABULARY_KEY;

/**
 * Publishes the directory's vocabulary (teams with their skills, and every
 * known skill) on the compacted directory.teams topic: at start-up and after
 * every change to teams or skills, so that other services (the escalation
 * decider's policy) check the names they use against it.
 */
@Injectable()
export class VocabularyFeed implements OnApplicationBootstrap {
  constructor(
    private readonly roster: Roster,
    private readonly bus: Bus,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.publish();
  }

  /**
   * Reads the vocabulary and publishes it. Replicas publish one at a time (a
   * PostgreSQL advisory lock held until the record is acknowledged), so the
   * topic's last record is never older than the last change.
   */
  async publish(): Promise<DirectoryVocabulary> {
    return this.roster.db.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('router.vocabulary'))`);
      const vocabulary = await this.roster.vocabulary(tx);
      const value = create(DirectoryVocabularySchema, {
        teams: vocabulary.teams.map((t) => ({ ...t, skills: [...t.skills] })),
        skills: vocabulary.skills.map((s) => ({ ...s })),
        publishedAt: new Date().toISOString(),
      });
      await this.bus.publish({ topic: Topics.directoryTeams, key: VOCABULARY_KEY, value });
      this.logger.log('directory vocabulary published', {
        teams: value.teams.length,
        skills: value.skills.length,
      });
      return value;
    });
  }
}
