import {
  inAskedTeam,
  OPEN_STEP,
  qualifiedAgents,
  type AgentProfile,
  type HandoffNeeds,
} from './routing.js';

/**
 * What the customer is told while they wait: their place in line, the wait
 * estimated from the live queue, and which team is coming. Pure.
 */

/**
 * The expected wait of the handoff at `position` (1 = next): the handoffs
 * ahead of it and itself, shared among the conversations the qualified
 * agents can hold at once, each taking the recent average handling time.
 */
export function estimateWaitSeconds(
  position: number,
  capacity: number,
  averageHandleSeconds: number,
): number {
  const servers = Math.max(1, capacity);
  return Math.round((Math.max(1, position) * Math.max(0, averageHandleSeconds)) / servers);
}

/** How many conversations at once the agents who could take the handoff hold in all. */
export function qualifiedCapacity(roster: readonly AgentProfile[], needs: HandoffNeeds): number {
  return qualifiedAgents(roster, needs, OPEN_STEP).reduce((sum, a) => sum + a.maxConcurrent, 0);
}

/**
 * The team of the agents best placed to take the handoff: the one it is meant
 * for when someone of that team qualifies, else the team most of the
 * qualified agents are in ('' when nobody qualifies).
 */
export function expectedTeam(roster: readonly AgentProfile[], needs: HandoffNeeds): string {
  const wanted = needs.requiredSkills.map((s) => s.trim().toLowerCase());
  const agents = qualifiedAgents(roster, needs, OPEN_STEP);
  const asked = agents.find((a) => inAskedTeam(a, needs));
  if (asked) return asked.team;
  const skilled = agents.filter((a) => a.skills.some((s) => wanted.includes(s.toLowerCase())));
  const pool = skilled.length ? skilled : agents;
  const counts = new Map<string, number>();
  for (const a of pool) counts.set(a.team, (counts.get(a.team) ?? 0) + 1);
  return (
    [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0] ?? ''
  );
}

/** The running average of handling time: each resolved conversation moves it a fifth of the way. */
export function nextHandleAverage(previous: number | undefined, sampleSeconds: number): number {
  if (!Number.isFinite(sampleSeconds) || sampleSeconds <= 0) return previous ?? 0;
  if (previous === undefined || !Number.isFinite(previous)) return sampleSeconds;
  return previous + 0.2 * (sampleSeconds - previous);
}

/** Which queue update a handoff that has waited `waitedMs` is due (0: none yet). */
export function updateNumber(waitedMs: number, everySeconds: number): number {
  if (everySeconds <= 0) return 0;
  return Math.max(0, Math.floor(waitedMs / (everySeconds * 1000)));
}

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/;

/** An e-mail address the customer wrote, for the follow-up. */
export function contactIn(text: string): string {
  return EMAIL.exec(text)?.[0] ?? '';
}
