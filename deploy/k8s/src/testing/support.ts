/** What the specs share: the repository, its values, and the manifests they render to. */
import { join } from 'node:path';
import { loadCatalogue, type Catalogue } from '../catalogue.js';
import { repoRoot } from '../repo.js';
import { render, type Manifest, type ManifestGroup } from '../render.js';
import { deployments } from '../service-meta.js';
import { loadValues, parseValues, type Values } from '../values.js';

export const root = repoRoot();

/** The values the repository ships (deploy/k8s/values.yaml). */
export const shippedValues = (): Values => loadValues(join(root, 'deploy', 'k8s', 'values.yaml'));

/** The smallest values that render: Redis without a password, the defaults for everything else. */
export const minimalValues = (): Values =>
  parseValues({
    namespace: 'support',
    image: { repository: 'support', tag: 'test' },
    kafka: { bootstrapServers: 'kafka:9092', strimziCluster: 'kafka' },
    postgres: { host: 'pg', user: 'support', passwordSecret: { name: 'pg', key: 'password' } },
    redis: { host: 'redis' },
  });

export interface Rendered {
  values: Values;
  catalogue: Catalogue;
  groups: ManifestGroup[];
  objects: Manifest[];
}

export async function renderWith(values: Values): Promise<Rendered> {
  const catalogue = await loadCatalogue(root);
  const groups = render(values, catalogue, deployments);
  return { values, catalogue, groups, objects: groups.flatMap((g) => g.objects) };
}

/** The objects of a kind, as plain JSON (what kubectl would be given). */
export function ofKind<T = Record<string, unknown>>(objects: Manifest[], kind: string): T[] {
  return objects
    .filter((o) => o.kind === kind)
    .map((o) => JSON.parse(JSON.stringify(o.toJSON())) as T);
}
