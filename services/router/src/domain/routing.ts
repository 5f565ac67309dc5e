import { skillLevel, type WorkingHours } from './directory.js';

/**
 * Who takes a handoff: pure functions over the roster and the agents' current
 * loads. The best match (most required skills covered, then the customer's
 * language, then the higher skill level) wins; among equally good matches the
 * least loaded agent does.
 */

export interface AgentProfile {
  id: string;
  name: string;
  team: string;
  skills: readonly string[];
  languages: readonly string[];
  maxConcurrent: number;
  active: boolean;
  /** Level 1-5 per skill (3 when missing). */
  skillLevels?: Readonly<Record<string, number>>;
  workingHours?: WorkingHours | null;
  timeZone?: string;
}

/** What a handoff asks of the person who takes it. */
export interface HandoffNeeds {
  requiredSkills: readonly string[];
  /** BCP 47 tag such as "en" or "de-AT"; empty when unknown. */
  language: string;
}

/** Handoffs each agent holds right now, by agent id (missing = 0). */
export type Loads = ReadonlyMap<string, number>;

/** The skill of the catch-all agents; a handoff that names no skill asks for it. */
export const GENERAL_SKILL = 'general';

const norm = (s: string): string => s.trim().toLowerCase();
const primary = (tag: string): string => norm(tag).split('-')[0] ?? '';

export function wantedSkills(needs: HandoffNeeds): string[] {
  const skills = needs.requiredSkills.map(norm).filter(Boolean);
  return skills.length ? skills : [GENERAL_SKILL];
}

function skillsCovered(agent: AgentProfile, wanted: readonly string[]): number {
  const has = new Set(agent.skills.map(norm));
  return wanted.filter((s) => has.has(s)).length;
}

export function speaks(agent: AgentProfile, language: string): boolean {
  if (!language.trim()) return true;
  const wanted = primary(language);
  return agent.languages.some((l) => primary(l) === wanted);
}

/**
 * The agents who could ever take the handoff, load aside: the active agents
 * with at least one wanted skill; when the roster has nobody with any of them,
 * the general agents; when there are none either, every active agent. So a
 * handoff for an unknown skill still reaches a person.
 */
export function qualifiedAgents(
  roster: readonly AgentProfile[],
  needs: HandoffNeeds,
): AgentProfile[] {
  const active = roster.filter((a) => a.active && a.maxConcurrent > 0);
  const wanted = wantedSkills(needs);
  const skilled = active.filter((a) => skillsCovered(a, wanted) > 0);
  if (skilled.length) return skilled;
  const general = active.filter((a) => skillsCovered(a, [GENERAL_SKILL]) > 0);
  return general.length ? general : active;
}

export function loadOf(loads: Loads, agentId: string): number {
  return loads.get(agentId) ?? 0;
}

export function hasCapacity(agent: AgentProfile, loads: Loads): boolean {
  return loadOf(loads, agent.id) < agent.maxConcurrent;
}

/**
 * The qualified agents with free capacity, best first: most wanted skills,
 * then speaking the customer's language, then least loaded (share of their
 * capacity in use, then count), then by id so that every replica ranks alike.
 */
export function rankAgents(
  roster: readonly AgentProfile[],
  needs: HandoffNeeds,
  loads: Loads,
): AgentProfile[] {
  const wanted = wantedSkills(needs);
  return qualifiedAgents(roster, needs)
    .filter((a) => hasCapacity(a, loads))
    .map((agent) => ({
      agent,
      skills: skillsCovered(agent, wanted),
      language: speaks(agent, needs.language) ? 1 : 0,
      level: wanted.reduce(
        (sum, s) => sum + (agent.skills.map(norm).includes(s) ? skillLevel(agent, s) : 0),
        0,
      ),
      load: loadOf(loads, agent.id),
    }))
    .sort(
      (x, y) =>
        y.skills - x.skills ||
        y.language - x.language ||
        y.level - x.level ||
        x.load / x.agent.maxConcurrent - y.load / y.agent.maxConcurrent ||
        x.load - y.load ||
        x.agent.id.localeCompare(y.agent.id),
    )
    .map((c) => c.agent);
}

/** The agent who should take the handoff now, or undefined when every qualified agent is at capacity. */
export function chooseAgent(
  roster: readonly AgentProfile[],
  needs: HandoffNeeds,
  loads: Loads,
): AgentProfile | undefined {
  return rankAgents(roster, needs, loads)[0];
}
