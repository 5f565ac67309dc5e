/** The settings each service's config reads (services/<name>/src/config.ts, its zod schema). */
import { join } from 'node:path';

interface ConfigModule {
  configSchema: { shape: Record<string, unknown> };
}

export async function configKeys(root: string, service: string): Promise<string[]> {
  const mod = (await import(join(root, 'services', service, 'src', 'config.ts'))) as ConfigModule;
  return Object.keys(mod.configSchema.shape);
}
