import { skillLevel, type WorkingHours } from './directory.js';
import type { RoutingStep } from './routing-policy.js';

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
  /** Agents who were given this handoff and let it go (declined, or did not accept in time): never offered it again. */
  passedBy?: readonly string[];
  /** The team the handoff is meant for (empty or absent: any); its agents rank first. */
  team?: string;
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

/** Who qualifies when no step is named: one of the skills, or the general skill (the last resort before "anyone"). */
export const OPEN_STEP: RoutingStep = {
  name: 'open',
  afterSeconds: 0,
  skills: 'general',
  minLevel: 1,
  language: 'preferred',
};

function hasSkill(agent: AgentProfile, skill: string, minLevel: number): boolean {
  return agent.skills.map(norm).includes(skill) && skillLevel(agent, skill) >= minLevel;
}

/**
 * The agents who qualify for the handoff at this step of its wait, load
 * aside: active, not among those who passed on it, with the skills the step
 * asks (all, any, any or general, or none) at its minimum level, and
 * speaking the customer's language when the step requires it.
 */
export function qualifiedAgents(
  roster: readonly AgentProfile[],
  needs: HandoffNeeds,
  step: RoutingStep = OPEN_STEP,
): AgentProfile[] {
  const wanted = wantedSkills(needs);
  const passed = new Set(needs.passedBy ?? []);
  return roster.filter((a) => {
    if (!a.active || a.maxConcurrent <= 0) return false;
    if (passed.has(a.id)) return false;
    if (step.language === 'required' && !speaks(a, needs.language)) return false;
    const covered = wanted.filter((s) => hasSkill(a, s, step.minLevel)).length;
    switch (step.skills) {
      case 'all':
        return covered === wanted.length;
      case 'any':
        return covered > 0;
      case 'general':
        return covered > 0 || hasSkill(a, GENERAL_SKILL, 1);
      case 'anyone':
        return true;
    }
  });
}

export function loadOf(loads: Loads, agentId: string): number {
  return loads.get(agentId) ?? 0;
}

export function hasCapacity(agent: AgentProfile, loads: Loads): boolean {
  return loadOf(loads, agent.id) < agent.maxConcurrent;
}

/** The agent is in the team the handoff is meant for (false when it names none). */
export function inAskedTeam(agent: AgentProfile, needs: HandoffNeeds): boolean {
  return !!needs.team && norm(agent.team) === norm(needs.team);
}

/**
 * The qualified agents with free capacity, best first: those of the team the
 * handoff is meant for (when it names one), then most wanted skills, then speaking the customer's language, then least loaded (share of their
 * capacity in use, then count), then by id so that every replica ranks alike.
 */
export function rankAgents(
  roster: readonly AgentProfile[],
  needs: HandoffNeeds,
  loads: Loads,
  step: RoutingStep = OPEN_STEP,
): AgentProfile[] {
  const wanted = wantedSkills(needs);
  return qualifiedAgents(roster, needs, step)
    .filter((a) => hasCapacity(a, loads))
    .map((agent) => ({
      agent,
      team: inAskedTeam(agent, needs) ? 1 : 0,
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
        y.team - x.team ||
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
  step: RoutingStep = OPEN_STEP,
): AgentProfile | undefined {
  return rankAgents(roster, needs, loads, step)[0];
}

/**
 * Why this agent: the step, the skills they cover (with levels), the
 * language, their load, and how many qualified agents had room. Recorded on
 * every assignment.
 */
export function assignmentReason(
  agent: AgentProfile,
  needs: HandoffNeeds,
  loads: Loads,
  step: RoutingStep,
  candidates: number,
): string {
  const wanted = wantedSkills(needs);
  const covered = wanted.filter((s) => hasSkill(agent, s, 1));
  const skills = covered.length
    ? `has ${covered.map((s) => `${s} (level ${skillLevel(agent, s)})`).join(', ')}`
    : `has none of ${wanted.join(', ')}`;
  const language = !needs.language.trim()
    ? 'no language asked'
    : speaks(agent, needs.language)
      ? `speaks ${needs.language}`
      : `does not speak ${needs.language}`;
  const load = `load ${loadOf(loads, agent.id)}/${agent.maxConcurrent}`;
  const team = needs.team
    ? inAskedTeam(agent, needs)
      ? `; in team ${needs.team}, as asked`
      : `; not in team ${needs.team} (asked)`
    : '';
  return `step ${step.name} (${step.skills} skills${step.language === 'required' ? ', language required' : ''}): ${skills}${team}; ${language}; ${load}; best of ${candidates} with room`;
}
