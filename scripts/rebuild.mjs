// Throws away every service's derived state (Redis snapshots, router load,
// the metrics read model) and recreates it from the conversation log.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { localEnv, services, root } from './services.mjs';

const env = { ...process.env, ...localEnv() };
for (const { name } of services) {
  const entry = join(root, 'services', name, 'dist', 'rebuild.js');
  console.log(`==> ${name}`);
  execFileSync(process.execPath, [entry], { env, stdio: 'inherit' });
}
