import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Bus, fetchTopicEnds, type Incoming, type TopicSpec } from '@support/bus';
import type { DescMessage } from '@support/contracts';

/** A replica that did not catch up in time (the broker is slow or the topic unreadable). */
export class NotCaughtUp extends Error {}

/**
 * Every record of a compacted topic, on every replica (policy.versions,
 * directory.teams): a consumer group of this replica's own (so no other
 * replica takes partitions away from it) that reads from the beginning at
 * start-up and then follows the topic. `catchUp()` is the read-your-writes
 * barrier: it resolves once this replica has applied everything the topic held
 * when it was called, so a caller that published first and then waits sees its
 * own write applied here.
 *
 * The group is one per process start, `<service>.<name>.<host>-<pid>-<random>`,
 * commits no offsets and is deleted on shutdown (`forget`), so groups do not
 * pile up: a graceful stop leaves nothing behind, and a crashed replica's group,
 * having no offsets, is removed by the broker at its next clean-up
 * (offsets.retention.check.interval.ms, 10 minutes by default) instead of
 * staying for the offsets' retention (7 days). A stable per-replica group id
 * (from HOSTNAME) was the alternative, and is worse here: pod names change on
 * every restart of a Deployment anyway; two processes sharing a host name
 * (two replicas on one machine or in one test process) would share the group,
 * and one of them would never get the single partition; and a group that
 * committed offsets would resume mid-topic after a restart, missing the
 * records before, while a follower needs all of them in memory. The random part
 * keeps two followers in one process apart; host and pid say whose it is.
 */
export class TopicFollower {
  /** Per partition: the offset after the last record applied (or skipped as bad). */
  private readonly applied = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly bus: Bus,
    private readonly topic: TopicSpec,
    readonly groupId: string,
  ) {}

  /**
   * Starts following `topic`; `handle` gets every record in order per
   * partition, `onTombstone` every record with no value. Undecodable records
   * are dead-lettered by the bus and count as applied.
   */
  static async start<Desc extends DescMessage>(
    bus: Bus,
    options: {
      topic: TopicSpec<Desc>;
      /** The group name without the replica's suffix, e.g. "policy". */
      name: string;
      handle: (record: Incoming<Desc>) => Promise<void> | void;
      onTombstone?: (key: string) => Promise<void> | void;
    },
  ): Promise<TopicFollower> {
    const group = `${options.name}.${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const follower = new TopicFollower(bus, options.topic as TopicSpec, `${bus.service}.${group}`);
    await bus.consume({
      group,
      topic: options.topic,
      fromBeginning: true,
      // Nothing to resume: every start reads the topic from the beginning (see above).
      commitOffsets: false,
      partitionsConcurrently: 1,
      handle: async (record) => {
        await options.handle(record);
      },
      onTombstone: async (key) => {
        await options.onTombstone?.(key);
      },
      // Dead-lettered records count as applied too.
      onSettled: (partition, offset) => follower.advance(partition, offset),
    });
    return follower;
  }

  private advance(partition: number, offset: string): void {
    const next = BigInt(offset) + 1n;
    if (next <= (this.applied.get(partition) ?? 0n)) return;
    this.applied.set(partition, next);
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once every record the topic holds now has been applied here; throws NotCaughtUp after `timeoutMs`. */
  async catchUp(timeoutMs: number): Promise<void> {
    const admin = this.bus.kafka.admin();
    await admin.connect();
    let ends: { partition: number; high: string; low: string }[];
    try {
      ends = await fetchTopicEnds(admin, this.topic.name, timeoutMs);
    } finally {
      await admin.disconnect();
    }
    const behind = () =>
      ends.some(
        (p) =>
          BigInt(p.high) > BigInt(p.low) && (this.applied.get(p.partition) ?? 0n) < BigInt(p.high),
      );
    if (!behind()) return;
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        if (behind()) return;
        this.waiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new NotCaughtUp(
            `${this.topic.name} was not read to its end within ${timeoutMs} ms on this replica`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** After the bus has stopped its consumers: the replica's group is of no use to anyone. */
  async forget(): Promise<void> {
    const admin = this.bus.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // The broker removes an empty group by itself eventually.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
