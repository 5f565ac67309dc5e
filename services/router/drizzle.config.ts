import { defineConfig } from 'drizzle-kit';

// Run from the repository root: npx drizzle-kit generate --config services/router/drizzle.config.ts
export default defineConfig({
  dialect: 'postgresql',
  schema: './services/router/src/adapters/db/schema.ts',
  out: './services/router/migrations',
  schemaFilter: ['router'],
});
