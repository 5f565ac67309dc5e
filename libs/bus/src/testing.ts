// What the bus's own tests share: a throw-away topic, and the child processes they start.
import { spawn, type ChildProcess } from 'node:child_process';
import { InboundMessageSchema } from '@support/contracts';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from './size.js';
import type { TopicSpec } from './topics.js';

/**
 * A throw-away topic of inbound messages (3 partitions, an hour's retention) for the bus's own
 * tests and the child processes they start (`test/*.mjs`, which load it from dist).
 */
export function testTopic(name: string): TopicSpec<typeof InboundMessageSchema> {
  return {
    name,
    partitions: 3,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
    external: false,
    description: 'test',
    key: 'test',
    schema: InboundMessageSchema,
    maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  };
}

/** A child process of a test (`node script ...args`), the lines it printed, and its exit. */
export function startChild(
  script: string,
  args: string[],
): { proc: ChildProcess; lines: string[]; exited: Promise<unknown> } {
  const proc = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let rest = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  return { proc, lines, exited: new Promise((r) => proc.once('exit', r)) };
}
