import { PresenceStatus as PresenceStatusCode, type AgentPresence } from '@support/contracts';
import { agentIdSchema } from './directory.js';

/**
 * Agents' presence as desks report it (HTTP heartbeat or the agent.presence
 * topic): pure rules for what a report says and how long it holds.
 */

export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

const STATUS_OF: Partial<Record<PresenceStatusCode, PresenceStatus>> = {
  [PresenceStatusCode.ONLINE]: 'online',
  [PresenceStatusCode.AWAY]: 'away',
  [PresenceStatusCode.OFFLINE]: 'offline',
};

/** Why a presence record from the topic is not acceptable (it is dead-lettered), or undefined. */
export function presenceProblem(
  report: Pick<AgentPresence, 'agentId' | 'status' | 'reportedAt'>,
): string | undefined {
  if (!report.agentId) return 'agent_id is required';
  if (!agentIdSchema.safeParse(report.agentId).success)
    return 'agent_id: letters, digits, ".", "_" or "-" (1-100)';
  if (!STATUS_OF[report.status]) return 'status must be ONLINE, AWAY or OFFLINE';
  if (report.reportedAt && !Number.isFinite(Date.parse(report.reportedAt)))
    return 'reported_at must be an RFC 3339 time';
  return undefined;
}

/** What a valid report sets: the agent's status, for how many more seconds. */
export interface PresenceChange {
  agentId: string;
  status: PresenceStatus;
  ttlSeconds: number;
}

/**
 * What a presence report still says now: a report holds for `ttlSeconds`
 * from when it was made (`reported_at`, else when the topic received it), so
 * one read late (a consumer catching up) holds only for what is left, and one
 * older than that says nothing any more (undefined). A time ahead of `now`
 * (a desk's clock running fast) counts as now.
 */
export function presenceChange(
  report: Pick<AgentPresence, 'agentId' | 'status' | 'reportedAt'>,
  receivedAtMs: number,
  ttlSeconds: number,
  nowMs: number,
): PresenceChange | undefined {
  const status = STATUS_OF[report.status];
  if (!status) return undefined;
  const reported = report.reportedAt ? Date.parse(report.reportedAt) : NaN;
  const at = Math.min(Number.isFinite(reported) ? reported : receivedAtMs, nowMs);
  const left = Math.ceil(ttlSeconds - (nowMs - (Number.isFinite(at) ? at : nowMs)) / 1000);
  if (left <= 0) return undefined;
  return { agentId: report.agentId, status, ttlSeconds: Math.min(ttlSeconds, left) };
}
