import { join } from 'node:path';
import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate --config services/ai-responder/drizzle.config.ts` writes a new migration. */
export default defineConfig({
  dialect: 'postgresql',
  schema: join(__dirname, 'src/adapters/db/schema.ts'),
  out: join(__dirname, 'migrations'),
  schemaFilter: ['ai_responder'],
  casing: 'snake_case',
});
