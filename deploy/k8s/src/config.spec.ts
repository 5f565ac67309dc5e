import { deployments } from './service-meta.js';
import { configKeys } from './testing/config-keys.js';
import { minimalValues, ofKind, renderWith, root, shippedValues } from './testing/support.js';
import { SECRET_NAME } from './values.js';

interface ConfigMapJson {
  metadata: { name: string };
  data: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}
interface Workload {
  metadata: { name: string };
  spec: {
    template: {
      spec: { containers: { env: EnvVar[]; envFrom: { configMapRef: { name: string } }[] }[] };
    };
  };
}

/** Read outside the config schemas: topic partitions (libs/bus), PostgreSQL's password (node-postgres), the image's SERVICE. */
const READ_ELSEWHERE = ['KAFKA_PARTITIONS', 'PGPASSWORD', 'REDIS_PASSWORD', 'SERVICE'];
/** Secret settings left unset on purpose: demo sign-ins have no place in a cluster. */
const UNSET = ['DESK_DEMO_PASSWORD'];

async function settingsOf(values = shippedValues()) {
  const { objects } = await renderWith(values);
  const maps = ofKind<ConfigMapJson>(objects, 'ConfigMap');
  return ofKind<Workload>(objects, 'StatefulSet').map((set) => {
    const [c] = set.spec.template.spec.containers;
    const fromMaps = c.envFrom.flatMap((f) =>
      Object.keys(maps.find((m) => m.metadata.name === f.configMapRef.name)!.data),
    );
    return { service: set.metadata.name, fromMaps, env: c.env, maps };
  });
}

describe('configuration and secrets', () => {
  it('puts no secret in a ConfigMap, and no password in a URL there', async () => {
    for (const values of [shippedValues(), minimalValues()]) {
      const { objects } = await renderWith(values);
      const maps = ofKind<ConfigMapJson>(objects, 'ConfigMap');
      for (const map of maps) {
        expect(Object.keys(map.data).filter((k) => SECRET_NAME.test(k))).toEqual([]);
        for (const v of Object.values(map.data))
          if (/^[a-z]+:\/\//.test(v)) expect(new URL(v).password).toBe('');
      }
      expect(ofKind(objects, 'Secret')).toEqual([]);
    }
  });

  it('gives every secret setting a service reads from the Secret', async () => {
    for (const { service, env, fromMaps } of await settingsOf()) {
      const secretLike = (await configKeys(root, service)).filter(
        (k) => SECRET_NAME.test(k) && !UNSET.includes(k),
      );
      for (const key of secretLike) {
        expect([
          service,
          key,
          env.find((e) => e.name === key)?.valueFrom?.secretKeyRef?.name,
        ]).toEqual([service, key, 'support-secrets']);
        expect(fromMaps).not.toContain(key);
      }
    }
  });

  it('sets only settings the service reads', async () => {
    for (const { service, env, fromMaps } of await settingsOf()) {
      const known = [...(await configKeys(root, service)), ...READ_ELSEWHERE];
      const set = [...fromMaps, ...env.map((e) => e.name)];
      expect([service, set.filter((k) => !known.includes(k))]).toEqual([service, []]);
    }
  });

  it('passes PostgreSQL and Redis passwords by reference, and splices Redis into its URL', async () => {
    const [shipped] = await settingsOf();
    expect(shipped.env).toEqual(
      expect.arrayContaining([
        {
          name: 'PGPASSWORD',
          valueFrom: { secretKeyRef: { name: 'support-postgres', key: 'password' } },
        },
        { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@redis.example.internal:6379/0' },
      ]),
    );
    const [minimal] = await settingsOf(minimalValues());
    expect(minimal.env.map((e) => e.name)).not.toContain('REDIS_URL');
    expect(minimal.maps.find((m) => m.metadata.name === 'support-config')!.data.REDIS_URL).toBe(
      'redis://redis:6379/0',
    );
  });

  it('lists the deployments of exactly the services it renders', () => {
    expect(Object.keys(deployments).sort()).toEqual([
      'ai-responder',
      'desk',
      'escalation-decider',
      'ingest',
      'metrics',
      'router',
      'sentiment-scorer',
    ]);
  });
});
