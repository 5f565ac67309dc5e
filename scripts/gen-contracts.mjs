// Generates TypeScript from proto/ with buf and protoc-gen-es (both from npm).
// Run from anywhere; the output (libs/contracts/src/gen) is never committed.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(
  join(root, 'node_modules/.bin/buf'),
  ['generate', 'proto', '--template', 'proto/buf.gen.yaml'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
