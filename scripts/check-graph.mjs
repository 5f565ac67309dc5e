// Checks the Nx project graph: services depend on libraries, never on each
// other, and libraries never on services. Exits 1 naming any offending edge.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './services.mjs';

const file = join(mkdtempSync(join(tmpdir(), 'graph-')), 'graph.json');
execFileSync(join(root, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], {
  cwd: root,
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  stdio: 'ignore',
});
const { graph } = JSON.parse(readFileSync(file, 'utf8'));
const kind = (name) => graph.nodes[name]?.data?.root?.split('/')[0];
const bad = [];
let edges = 0;
for (const [from, deps] of Object.entries(graph.dependencies)) {
  for (const { target } of deps) {
    if (!graph.nodes[target]) continue;
    edges++;
    if (kind(from) === 'services' && kind(target) === 'services')
      bad.push(`${from} -> ${target} (service on service)`);
    if (kind(from) === 'libs' && kind(target) !== 'libs')
      bad.push(`${from} -> ${target} (library on ${kind(target)})`);
  }
}
if (bad.length) {
  console.error(`project graph: forbidden dependencies:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
const services = Object.keys(graph.nodes).filter((n) => kind(n) === 'services');
console.log(
  `project graph: ${services.length} services, ${edges} edges, no service depends on another`,
);
