/**
 * What the manifests are generated from: the topic catalogue (libs/bus) and the service list
 * (scripts/services.mjs), both the ones the code runs with.
 */
import { join } from 'node:path';
import { AllTopics, type TopicSpec } from '@support/bus';
import { repoRoot } from './repo.js';

export interface ServiceEntry {
  name: string;
  port: number;
}

export interface Catalogue {
  /** Every topic the services create at start-up (the catalogue, its dead-letter topics, the bus's own). */
  topics: TopicSpec[];
  services: ServiceEntry[];
}

/** The services `npm start` runs, with their ports. */
export async function loadServices(root = repoRoot()): Promise<ServiceEntry[]> {
  // An absolute path (not a file: URL) imports under Node's ES modules and Jest's require alike.
  const file = join(root, 'scripts', 'services.mjs');
  const mod = (await import(file)) as { services: ServiceEntry[] };
  return mod.services.map(({ name, port }) => ({ name, port }));
}

/**
 * The catalogue as the code has it. Topics that state no partitions take KAFKA_PARTITIONS, read
 * when @support/bus loads: set it before (the generator's main does, from the values).
 */
export async function loadCatalogue(root = repoRoot()): Promise<Catalogue> {
  return { topics: [...AllTopics], services: await loadServices(root) };
}
