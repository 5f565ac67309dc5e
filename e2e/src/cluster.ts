/**
 * A Kafka cluster of its own for a test: `deploy/local/infra.sh` in cluster mode (three brokers,
 * each broker and controller, on ports and in a data dir of their own), started fresh and stopped
 * again; with the pid of each broker, so that a test can kill one, and a way to start it again.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { root } from './harness';

export interface ClusterOptions {
  /** Brokers (each also a controller of the KRaft quorum). */
  size: number;
  /** Broker n listens on port + n - 1, its controller on port + size + n - 1. */
  port: number;
  /** Where the brokers keep their data (broker-n/ each), wiped when the cluster starts. */
  dataDir: string;
  /** The PostgreSQL database infra.sh creates (dropped and created again when the cluster starts). */
  pgDatabase: string;
  /** Each broker's heap (infra.sh's KAFKA_HEAP). */
  heap?: string;
}

export class LocalCluster {
  private readonly log = join(root, 'e2e', 'logs', 'cluster-infra.log');

  constructor(readonly options: ClusterOptions) {
    mkdirSync(join(root, 'e2e', 'logs'), { recursive: true });
  }

  /** host:port of every broker, broker 1 first. */
  get brokers(): string[] {
    return Array.from(
      { length: this.options.size },
      (_, i) => `127.0.0.1:${this.options.port + i}`,
    );
  }

  /** The node id of the broker listening on host:port (infra.sh numbers them 1..size by port). */
  nodeOf(port: number): number {
    return port - this.options.port + 1;
  }

  /** A kafkajs client of the test (admin, topic watcher) that knows every broker. */
  client(clientId: string): Kafka {
    return new Kafka({ clientId, brokers: this.brokers, logLevel: logLevel.NOTHING });
  }

  /** Wipes what an earlier run left, then starts every broker and waits until all are registered. */
  async start(): Promise<void> {
    await this.infra(['reset']);
    await this.infra(['up']);
  }

  /** Stops every broker (SIGTERM, SIGKILL for those that hang). */
  async stop(): Promise<void> {
    await this.infra(['down']);
  }

  /** The pid of broker `node`. */
  async pid(node: number): Promise<number> {
    const out = await this.infra(['pid', String(node)]);
    const pid = Number(out.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for broker ${node}: ${out}`);
    return pid;
  }

  /** Crashes broker `node` with SIGKILL (no controlled shutdown, nothing flushed) and waits until it is gone. */
  async kill(node: number): Promise<number> {
    const pid = await this.pid(node);
    process.kill(pid, 'SIGKILL');
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return pid;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts broker `node` again and waits until the cluster has all its brokers. */
  async restart(node: number): Promise<void> {
    await this.infra(['start-broker', String(node)]);
  }

  /** Runs infra.sh for this cluster; its output goes to e2e/logs/cluster-infra.log. Resolves with stdout. */
  private infra(args: string[]): Promise<string> {
    const { size, port, dataDir, pgDatabase, heap } = this.options;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_CLUSTER_SIZE: String(size),
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(port + size),
      INFRA_DATA_DIR: dataDir,
      PGDATABASE: pgDatabase,
      KAFKA_HEAP: heap ?? '384m',
      KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? '240',
      KAFKA_STOP_TIMEOUT: '20',
    };
    const script = join(root, 'deploy', 'local', 'infra.sh');
    appendFileSync(this.log, `\n$ infra.sh ${args.join(' ')}  (${new Date().toISOString()})\n`);
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        [script, ...args],
        { cwd: root, env, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          appendFileSync(this.log, stdout + stderr);
          if (error) {
            reject(
              new Error(
                `infra.sh ${args.join(' ')} failed (${error.code ?? error.signal}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
              ),
            );
          } else resolve(stdout);
        },
      );
    });
  }
}
