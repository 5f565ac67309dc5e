/** Loads the catalogue, renders, validates and checks coverage: what the CLI and the tests run. */
import { loadCatalogue, type Catalogue } from './catalogue.js';
import { checkCoverage } from './coverage.js';
import { render, type ManifestGroup } from './render.js';
import { deployments } from './service-meta.js';
import { validateAll } from './validate.js';
import type { Values } from './values.js';

export interface Generated {
  catalogue: Catalogue;
  groups: ManifestGroup[];
  /** Schema and coverage problems, one line each. */
  problems: string[];
}

export async function generate(values: Values, root?: string): Promise<Generated> {
  const catalogue = await loadCatalogue(root);
  const groups = render(values, catalogue, deployments);
  const problems = [
    ...validateAll(groups),
    ...checkCoverage(values, catalogue, groups, deployments),
  ];
  return { catalogue, groups, problems };
}
