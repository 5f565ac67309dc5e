import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The repository's root: the nearest folder up from `from` that holds nx.json. */
export function repoRoot(from = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}
