import { Topics } from '@support/bus';
import { loadServices } from './catalogue.js';
import { deployments } from './service-meta.js';
import { consumersOf } from './testing/code-scan.js';
import { root } from './testing/support.js';

const topicName = (key: string) =>
  Topics[key as keyof typeof Topics]?.name ?? `unknown Topics.${key}`;

describe('service-meta.ts against the code', () => {
  it('has an entry for every service in scripts/services.mjs', async () => {
    const services = (await loadServices(root)).map((s) => s.name);
    expect(Object.keys(deployments).sort()).toEqual([...services].sort());
  });

  it('scales each service on a consumer group its code starts', async () => {
    for (const service of (await loadServices(root)).map((s) => s.name)) {
      const found = consumersOf(root, service).map((c) => `${c.group} ${topicName(c.topicKey)}`);
      const scaleOn = deployments[service].scaleOn;
      // A service that consumes nothing has nothing to scale on, and the other way round.
      expect([service, Boolean(scaleOn)]).toEqual([service, found.length > 0]);
      if (scaleOn) expect(found).toContain(`${scaleOn.group} ${scaleOn.topic.name}`);
    }
  });

  it('finds the consumers in the sources (the scan itself)', () => {
    const groups = consumersOf(root, 'ai-responder').map((c) => c.group);
    expect(groups).toEqual(expect.arrayContaining(['log', 'learning', 'reviews']));
    expect(consumersOf(root, 'ingest').map((c) => `${c.group} ${c.topicKey}`)).toEqual(
      expect.arrayContaining(['inbound inbound', 'log events', 'desk-actions deskActions']),
    );
  });
});
