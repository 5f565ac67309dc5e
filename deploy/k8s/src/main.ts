/**
 * Renders the Kubernetes manifests from the code's topic catalogue and service list with the
 * given values, validates every object and checks that they cover the code; exits 1 on any
 * problem. Usage:
 *   node deploy/k8s/dist/main.js [--values FILE] [--out DIR | --stdout] [--secret-keys]
 * Default values: deploy/k8s/values.yaml. Without --out or --stdout it only checks;
 * --secret-keys lists the Secret keys the manifests reference (what to create in the cluster).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './repo.js';
import { loadValues, type Values } from './values.js';

/** Loaded after KAFKA_PARTITIONS is set, as everything that imports the catalogue. */
async function printSecretKeys(values: Values): Promise<void> {
  const { secretInventory } = await import('./config.js');
  const { deployments } = await import('./service-meta.js');
  for (const use of secretInventory(values, deployments))
    console.log(
      `${use.secret} ${use.key}${use.optional ? ' (optional)' : ''}: ${use.services.join(', ')}`,
    );
}

async function main(): Promise<number> {
  const root = repoRoot();
  const { values: args } = parseArgs({
    options: {
      values: { type: 'string', default: join(root, 'deploy', 'k8s', 'values.yaml') },
      out: { type: 'string' },
      stdout: { type: 'boolean', default: false },
      'secret-keys': { type: 'boolean', default: false },
    },
  });
  const values = loadValues(args.values!);
  // Topics that state no partitions take KAFKA_PARTITIONS when the catalogue loads: the values'.
  process.env.KAFKA_PARTITIONS = String(values.kafka.partitions);
  const { generate } = await import('./generate.js');
  const { groups, problems } = await generate(values, root);
  if (problems.length) {
    console.error(`k8s: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  if (args['secret-keys']) await printSecretKeys(values);
  const count = groups.reduce((n, g) => n + g.objects.length, 0);
  if (args.stdout) process.stdout.write((await import('./output.js')).toYamlStream(groups));
  if (args.out) {
    const files = (await import('./output.js')).writeDirectory(args.out, groups);
    console.error(`k8s: wrote ${files.length} files to ${args.out}`);
  }
  console.error(`k8s: ${count} objects valid, covering every topic and service`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`k8s: ${err.message}`);
    process.exit(1);
  },
);
