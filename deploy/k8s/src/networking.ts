/** Each service's Services: one for its clients, and the headless one its StatefulSet needs. */
import { Service } from 'kubernetes-models/v1';
import type { ServiceEntry } from './catalogue.js';
import { labels, names, selectorLabels } from './names.js';
import type { Values } from './values.js';

/** http://<service>:<port>, the same port as on one machine (the other services' URLs use it). */
export function clusterService(values: Values, service: ServiceEntry): Service {
  return new Service({
    metadata: {
      name: service.name,
      namespace: values.namespace,
      labels: labels(values, service.name),
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(values, service.name),
      ports: [{ name: 'http', port: service.port, targetPort: 'http', protocol: 'TCP' }],
    },
  });
}

/** Governs the StatefulSet's pod names (<service>-0...); nothing connects through it. */
export function headlessService(values: Values, service: ServiceEntry): Service {
  return new Service({
    metadata: {
      name: names.headless(service.name),
      namespace: values.namespace,
      labels: labels(values, service.name),
    },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(values, service.name),
      ports: [{ name: 'http', port: service.port, targetPort: 'http', protocol: 'TCP' }],
    },
  });
}
