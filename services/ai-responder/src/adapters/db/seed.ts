import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../../config.js';
import { parseMarkdown } from '../../domain/kb/import.js';
import { SERVICE_ROOT } from './database.js';
import { KnowledgeBase, type ImportResult } from './knowledge-base.js';

export const SEED_DIR = join(SERVICE_ROOT, 'seed', 'kb');

/** Imports the demo knowledge base (one Markdown file per article); unchanged articles stay as they are. */
export async function seedKnowledgeBase(
  kb: KnowledgeBase,
  dir = SEED_DIR,
): Promise<ImportResult[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md')).sort();
  const articles = [];
  for (const file of files) {
    const parsed = parseMarkdown(await readFile(join(dir, file), 'utf8'), file, {
      status: 'published',
      locale: 'en',
    });
    if (parsed.issues.length) {
      throw new Error(
        `seed article ${file}: ${parsed.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      );
    }
    articles.push(...parsed.articles.map((a) => ({ ...a, source: 'seed' as const })));
  }
  return kb.import(articles, 'seed', 'import');
}

/** At start-up: seeds the demo knowledge base when asked, and re-splits articles whose passages are stale. */
@Injectable()
export class KbStartup implements OnModuleInit {
  constructor(
    private readonly kb: KnowledgeBase,
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.KB_SEED) {
      const results = await seedKnowledgeBase(this.kb);
      const changed = results.filter((r) => r.outcome !== 'unchanged').length;
      this.logger.log('knowledge base seeded', { articles: results.length, changed });
    }
    const reindexed = await this.kb.reindexStale();
    if (reindexed) this.logger.log('knowledge base passages rebuilt', { articles: reindexed });
  }
}
