import { join, relative } from 'node:path';
import { defineConfig } from 'drizzle-kit';

/** drizzle-kit wants paths relative to where it runs; these work from the repo root and from this folder. */
const here = (path: string) => relative(process.cwd(), join(__dirname, path)) || '.';

/** `npx drizzle-kit generate --config services/ai-responder/drizzle.config.ts` writes a new migration. */
export default defineConfig({
  dialect: 'postgresql',
  schema: here('src/adapters/db/schema.ts'),
  out: here('migrations'),
  schemaFilter: ['ai_responder'],
});
