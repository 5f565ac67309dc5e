import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let session: Session | undefined;

/**
 * With CPU_PROFILE_DIR set, profiles the process from start-up until graceful
 * shutdown and writes <service>-<pid>.cpuprofile there (open it in Chrome
 * DevTools). For finding where a service spends its CPU under load.
 */
export async function startProfilingIfAsked(): Promise<void> {
  if (!process.env.CPU_PROFILE_DIR || session) return;
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}

export async function stopProfiling(service: string): Promise<void> {
  const dir = process.env.CPU_PROFILE_DIR;
  if (!dir || !session) return;
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${service}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  session.disconnect();
  session = undefined;
}
