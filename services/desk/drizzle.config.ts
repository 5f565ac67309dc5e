import { defineConfig } from 'drizzle-kit';

// Run from the repository root: npx drizzle-kit generate --config services/desk/drizzle.config.ts
export default defineConfig({
  dialect: 'postgresql',
  schema: './services/desk/src/adapters/db/schema.ts',
  out: './services/desk/migrations',
  schemaFilter: ['desk'],
});
