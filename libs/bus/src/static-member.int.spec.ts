/**
 * Static membership on the real broker: a consumer process killed with SIGKILL (it never leaves
 * its group) and started again with the same instance id gets its partitions back at once. A
 * dynamic member would wait for the dead one's session (60 s here) to expire first.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { create, InboundMessageSchema } from '@support/contracts';
import { Bus } from './bus';
import { startChild, testTopic } from './testing';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const child = join(__dirname, '..', 'test', 'static-member-child.mjs');

/** The child and its output lines. */
const start = (topic: string, service: string) =>
  startChild(child, [brokers, topic, service, 'replica-0']);

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('static group membership', () => {
  const procs: ChildProcess[] = [];
  let bus: Bus;
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await bus?.close();
  });

  it('gives a replica killed with SIGKILL its partitions back as soon as it starts again', async () => {
    const name = `test.static.${randomUUID()}`;
    const topic = testTopic(name);
    const service = `test-static-${randomUUID().slice(0, 8)}`;
    bus = new Bus({ service: 'test-static-producer', brokers: brokers.split(',') });
    await bus.ensureTopics([topic]);
    const send = (text: string) =>
      Promise.all(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((k) =>
          bus.publish({
            topic,
            key: k,
            value: create(InboundMessageSchema, { channel: 'web', text: `${text} ${k}` }),
          }),
        ),
      );

    const first = start(name, service);
    procs.push(first.proc);
    await until(() => first.lines.includes('joined'), 30_000, 'the first process to join');
    await send('before');
    await until(() => first.lines.length === 7, 30_000, 'the first process to handle 6 records');
    // (Killed within the commit interval, the restarted one may handle these again: at least once.)

    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    const second = start(name, service);
    procs.push(second.proc);
    await send('after');
    // Well within the dead member's 60 s session: only static membership gets it there.
    const after = () =>
      second.lines
        .filter((l) => l !== 'joined')
        .map((l) => JSON.parse(l).text as string)
        .filter((t) => t.startsWith('after'));
    await until(() => after().length >= 6, 25_000, 'the restarted process to handle 6 records');
    expect(after().sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => `after ${k}`));
  });
});
