import { checkCoverage } from './coverage.js';
import { deployments } from './service-meta.js';
import { minimalValues, ofKind, renderWith, shippedValues } from './testing/support.js';

interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> }[];
  envFrom: { configMapRef: { name: string } }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  startupProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface Workload {
  metadata: { name: string };
  spec: { replicas?: number; serviceName: string; template: { spec: { containers: Container[] } } };
}
interface Named {
  metadata: { name: string };
  spec: Record<string, unknown>;
}
interface Scaler {
  metadata: { name: string };
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}

describe('the objects of each service', () => {
  it('gives every service in scripts/services.mjs a StatefulSet, Services, a PDB and a ScaledObject', async () => {
    const { objects, catalogue } = await renderWith(shippedValues());
    const names = (kind: string) => ofKind<Named>(objects, kind).map((o) => o.metadata.name);
    expect(catalogue.services.length).toBeGreaterThanOrEqual(7);
    for (const { name } of catalogue.services) {
      expect(names('StatefulSet')).toContain(name);
      expect(names('Service')).toEqual(expect.arrayContaining([name, `${name}-pods`]));
      expect(names('PodDisruptionBudget')).toContain(name);
      expect(names('ConfigMap')).toContain(`${name}-config`);
      if (deployments[name].scaleOn) expect(names('ScaledObject')).toContain(name);
    }
  });

  it('runs the image on the service port, with startup and readiness on /health/ready and liveness on /health/live', async () => {
    const { objects, catalogue } = await renderWith(shippedValues());
    for (const service of catalogue.services) {
      const set = ofKind<Workload>(objects, 'StatefulSet').find(
        (s) => s.metadata.name === service.name,
      )!;
      const [c] = set.spec.template.spec.containers;
      expect(c.ports).toEqual([
        expect.objectContaining({ name: 'http', containerPort: service.port }),
      ]);
      for (const probe of [c.startupProbe, c.readinessProbe])
        expect(probe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.resources.requests.memory).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
    }
  });

  it('names each replica for static group membership from its stable pod name', async () => {
    const { objects } = await renderWith(shippedValues());
    for (const set of ofKind<Workload>(objects, 'StatefulSet')) {
      const env = set.spec.template.spec.containers[0].env;
      expect(env.find((e) => e.name === 'KAFKA_INSTANCE_ID')).toEqual({
        name: 'KAFKA_INSTANCE_ID',
        valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
      });
      expect(set.spec.serviceName).toBe(`${set.metadata.name}-pods`);
    }
  });

  it('scales each consuming service on the lag of its group <service>.<group>, up to the partitions', async () => {
    const { objects } = await renderWith(shippedValues());
    for (const [service, deployment] of Object.entries(deployments)) {
      if (!deployment.scaleOn) continue;
      const scaler = ofKind<Scaler>(objects, 'ScaledObject').find(
        (s) => s.metadata.name === service,
      )!;
      expect(scaler.spec.scaleTargetRef).toEqual(
        expect.objectContaining({ kind: 'StatefulSet', name: service }),
      );
      const kafka = scaler.spec.triggers.find((t) => t.type === 'kafka')!;
      expect(kafka.metadata).toEqual(
        expect.objectContaining({
          consumerGroup: `${service}.${deployment.scaleOn.group}`,
          topic: deployment.scaleOn.topic.name,
          bootstrapServers: 'support-kafka-bootstrap.kafka.svc:9092',
        }),
      );
      expect(scaler.spec.maxReplicaCount).toBeLessThanOrEqual(deployment.scaleOn.topic.partitions);
    }
  });

  it('leaves the replica count to KEDA, and states it when autoscaling is off', async () => {
    const on = await renderWith(shippedValues());
    expect(ofKind<Workload>(on.objects, 'StatefulSet').map((s) => s.spec.replicas)).not.toContain(
      2,
    );
    const values = minimalValues();
    values.autoscaling.enabled = false;
    const off = await renderWith(values);
    expect(ofKind(off.objects, 'ScaledObject')).toEqual([]);
    expect(
      new Set(ofKind<Workload>(off.objects, 'StatefulSet').map((s) => s.spec.replicas)),
    ).toEqual(new Set([2]));
    expect(checkCoverage(values, off.catalogue, off.groups, deployments)).toEqual([]);
  });

  it('reports a service of the list that has no objects', async () => {
    const { values, catalogue, groups } = await renderWith(shippedValues());
    const grown = {
      ...catalogue,
      services: [...catalogue.services, { name: 'billing', port: 3099 }],
    };
    expect(checkCoverage(values, grown, groups, deployments)).toEqual([
      'service billing: no deployment metadata (service-meta.ts)',
    ]);
    const { ingest: _ingest, ...withoutIngest } = deployments;
    const problems = checkCoverage(
      values,
      catalogue,
      groups.filter((g) => g.name !== 'ingest'),
      withoutIngest,
    );
    expect(problems).toEqual(['service ingest: no deployment metadata (service-meta.ts)']);
    expect(
      checkCoverage(
        values,
        catalogue,
        groups.filter((g) => g.name !== 'ingest'),
        deployments,
      ),
    ).toEqual([
      'service ingest: no StatefulSet ingest',
      'service ingest: no Service ingest',
      'service ingest: no Service ingest-pods',
      'service ingest: no PodDisruptionBudget ingest',
      'service ingest: no ConfigMap ingest-config',
      'service ingest: no ScaledObject ingest',
    ]);
  });
});
