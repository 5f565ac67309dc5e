/**
 * What the services' code says about themselves, read from their sources: the consumer groups
 * each one starts (for the test that checks service-meta.ts against the code).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FoundConsumer {
  /** The group's name after `<service>.`. */
  group: string;
  /** The key of the topic in the catalogue's Topics. */
  topicKey: string;
  file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** bus.consume({ group: 'x', topic: Topics.y ... }) */
const CONSUME = /\.consume\(\{\s*group:\s*'([^']+)',\s*topic:\s*Topics\.(\w+)/g;
/** consumeConversationLog(bus, redis, { ... }): the log, in group 'log' unless it names one. */
const LOG_CONSUMER = 'consumeConversationLog(';

function logConsumers(text: string, file: string): FoundConsumer[] {
  const found: FoundConsumer[] = [];
  for (let at = text.indexOf(LOG_CONSUMER); at >= 0; at = text.indexOf(LOG_CONSUMER, at + 1)) {
    const options = text.slice(at, text.indexOf('});', at));
    const group = /\bgroup:\s*'([^']+)'/.exec(options)?.[1] ?? 'log';
    found.push({ group, topicKey: 'events', file });
  }
  return found;
}

/** The consumers a service's sources start (in any file under services/<name>/src). */
export function consumersOf(root: string, service: string): FoundConsumer[] {
  return sourceFiles(join(root, 'services', service, 'src')).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const direct = [...text.matchAll(CONSUME)].map((m) => ({ group: m[1], topicKey: m[2], file }));
    return [...direct, ...logConsumers(text, file)];
  });
}
