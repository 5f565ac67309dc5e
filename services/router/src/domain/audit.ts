/**
 * How the directory's admin changes are recorded in the audit log (service-kit's
 * AuditTrail): the action and a short detail, or nothing when nothing changed.
 * Pure.
 */
import { skillLevel } from './directory.js';

export interface AuditedChange {
  /** `<resource type>.<verb>`: `agent.created`, `team.updated`... */
  action: string;
  detail: Record<string, unknown>;
}

/** The longest text value a detail shows (descriptions are cut, with "…"). */
const MAX_TEXT = 120;

const brief = (value: unknown): unknown =>
  typeof value === 'string' && value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` compare equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The fields whose values differ, in the order of `after`'s keys. */
export function changedFields<T extends object>(before: T, after: T): (keyof T & string)[] {
  return (Object.keys(after) as (keyof T & string)[]).filter(
    (k) => stableJson(before[k]) !== stableJson(after[k]),
  );
}

/**
 * A create-or-replace as an audited change: `<type>.created` with the shown
 * fields, `<type>.updated` with `changed` (every changed field's name) and the
 * new values of the shown ones among them; undefined when nothing changed.
 * Fields left out of `shown` (e-mail addresses, long schedules) are named, never shown.
 */
export function putChange<T extends object>(
  type: string,
  before: T | undefined,
  after: T,
  shown: readonly (keyof T & string)[],
): AuditedChange | undefined {
  const show = (fields: readonly (keyof T & string)[]) =>
    Object.fromEntries(fields.filter((f) => shown.includes(f)).map((f) => [f, brief(after[f])]));
  if (!before) return { action: `${type}.created`, detail: show(shown) };
  const changed = changedFields(before, after);
  if (changed.length === 0) return undefined;
  return { action: `${type}.updated`, detail: { changed, ...show(changed) } };
}

/** An agent as the audit log compares it: skills as name → level. */
export interface AgentFacts {
  name: string;
  team: string;
  email: string;
  skills: Record<string, number>;
  languages: readonly string[];
  maxConcurrent: number;
  active: boolean;
  workingHours: unknown;
  timeZone: string;
}

/** The agent fields whose values a record shows (the e-mail and working hours are only named). */
export const AGENT_SHOWN = [
  'name',
  'team',
  'skills',
  'languages',
  'maxConcurrent',
  'active',
  'timeZone',
] as const satisfies readonly (keyof AgentFacts)[];

export function agentFacts(row: {
  name: string;
  team: string;
  email: string;
  skills: readonly string[];
  skillLevels: Readonly<Record<string, number>>;
  languages: readonly string[];
  maxConcurrent: number;
  active: boolean;
  workingHours?: unknown;
  timeZone: string;
}): AgentFacts {
  return {
    name: row.name,
    team: row.team,
    email: row.email,
    skills: Object.fromEntries(row.skills.map((s) => [s, skillLevel(row, s)])),
    languages: row.languages,
    maxConcurrent: row.maxConcurrent,
    active: row.active,
    workingHours: row.workingHours ?? null,
    timeZone: row.timeZone,
  };
}

/** A presence an admin set: recorded when it differs from what it was (a heartbeat is no change). */
export function presenceChange(before: string, status: string): AuditedChange | undefined {
  return before === status
    ? undefined
    : { action: 'agent.presence_changed', detail: { status, previous: before } };
}
