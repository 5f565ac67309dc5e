/** Renders every object: the topics, the shared configuration, and each service's objects. */
import { disruptionBudget } from './availability.js';
import { scaledObject } from './autoscaling.js';
import type { Catalogue, ServiceEntry } from './catalogue.js';
import { configChecksum, configMap, serviceConfigData, sharedConfigData } from './config.js';
import { names } from './names.js';
import { clusterService, headlessService } from './networking.js';
import { deployments as allDeployments, type ServiceDeployment } from './service-meta.js';
import { kafkaTopic } from './topics.js';
import type { Values } from './values.js';
import { statefulSet } from './workload.js';

/** A Kubernetes object from the typed models: validates against its schema, serialises to JSON. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  validate(): void;
  toJSON(): unknown;
}

/** The objects of one group, written to one file (output.ts). */
export interface ManifestGroup {
  name: string;
  objects: Manifest[];
}

function serviceObjects(
  values: Values,
  service: ServiceEntry,
  deployment: ServiceDeployment,
  catalogue: Catalogue,
  shared: Record<string, string>,
): Manifest[] {
  const own = serviceConfigData(values, service, deployment, catalogue.services);
  const scaler = scaledObject(values, service, deployment);
  return [
    configMap(values, names.config(service.name), own, service.name),
    statefulSet(values, service, deployment, configChecksum(shared, own)),
    clusterService(values, service),
    headlessService(values, service),
    disruptionBudget(values, service.name),
    ...(scaler ? [scaler] : []),
  ];
}

/** Every object, grouped. A service without deployment metadata is left out (coverage.ts reports it). */
export function render(
  values: Values,
  catalogue: Catalogue,
  deployments: Record<string, ServiceDeployment> = allDeployments,
): ManifestGroup[] {
  const shared = sharedConfigData(values);
  const services = catalogue.services
    .filter((service) => deployments[service.name])
    .map((service) => ({
      name: service.name,
      objects: serviceObjects(values, service, deployments[service.name], catalogue, shared),
    }));
  return [
    { name: 'kafka-topics', objects: catalogue.topics.map((t) => kafkaTopic(values, t)) },
    { name: 'config', objects: [configMap(values, names.sharedConfig, shared)] },
    ...services,
  ];
}
