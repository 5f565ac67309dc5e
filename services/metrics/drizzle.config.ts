import { defineConfig } from 'drizzle-kit';

// Run from the repository root: npx drizzle-kit generate --config services/metrics/drizzle.config.ts
export default defineConfig({
  dialect: 'postgresql',
  schema: './services/metrics/src/adapters/db/schema.ts',
  out: './services/metrics/migrations',
  schemaFilter: ['metrics'],
});
