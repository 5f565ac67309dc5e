import { z } from 'zod';
import { skillName } from './directory.js';

/**
 * The directory's vocabulary as data: the skills agents, teams and handoffs
 * may name, and the teams with the skills each covers. Registering an agent
 * (or a team) with a name outside it is a mistake to report, not a handoff
 * that waits minutes for relaxation to find someone. Pure.
 */

export interface VocabularyTeam {
  name: string;
  description: string;
  skills: readonly string[];
}

export interface VocabularySkill {
  name: string;
  description: string;
}

export interface Vocabulary {
  teams: readonly VocabularyTeam[];
  skills: readonly VocabularySkill[];
}

/** A 400's issue: the field, the rule and what is wrong, with the names that are known. */
export interface VocabularyIssue {
  field: string;
  rule: 'unknown_team' | 'unknown_skill';
  message: string;
}

/** `PUT /v1/teams/:name`: what the team is and the skills it covers. */
export const teamInputSchema = z.strictObject({
  description: z.string().max(1000).default(''),
  skills: z
    .array(skillName)
    .max(100)
    .refine((list) => new Set(list).size === list.length, 'a skill appears twice')
    .default([]),
});

export type TeamInput = z.output<typeof teamInputSchema>;

/** `PUT /v1/skills/:name`: what the skill is. */
export const skillInputSchema = z.strictObject({
  description: z.string().max(1000).default(''),
});

const listed = (names: readonly string[]): string =>
  names.length ? names.join(', ') : '(none yet)';

export function unknownTeam(vocabulary: Vocabulary, team: string, field = 'team') {
  if (vocabulary.teams.some((t) => t.name === team)) return [];
  return [
    {
      field,
      rule: 'unknown_team' as const,
      message: `unknown team "${team}"; known teams: ${listed(vocabulary.teams.map((t) => t.name))} (create it with PUT /v1/teams/:name)`,
    },
  ];
}

/** An issue per skill outside the known set; `field(i)` names where the i-th skill sits. */
export function unknownSkills(
  vocabulary: Vocabulary,
  names: readonly string[],
  field: (i: number) => string,
): VocabularyIssue[] {
  const known = new Set(vocabulary.skills.map((s) => s.name));
  const issues: VocabularyIssue[] = [];
  names.forEach((name, i) => {
    if (!known.has(name))
      issues.push({
        field: field(i),
        rule: 'unknown_skill',
        message: `unknown skill "${name}"; known skills: ${listed([...known].sort())} (add it with PUT /v1/skills/:name)`,
      });
  });
  return issues;
}

/**
 * What is wrong with an agent's team and skills against the vocabulary
 * (nothing when both are known). The skill issues name the entry, as the
 * request wrote it: `skills[1]` for a bare name, `skills[1].name` otherwise.
 */
export function agentVocabularyIssues(
  vocabulary: Vocabulary,
  agent: { team: string; skills: readonly string[] },
  written?: readonly unknown[],
): VocabularyIssue[] {
  const at = (i: number) =>
    written && typeof written[i] === 'object' ? `skills[${i}].name` : `skills[${i}]`;
  return [...unknownTeam(vocabulary, agent.team), ...unknownSkills(vocabulary, agent.skills, at)];
}

/** The skills a team may cover must be known ones. */
export function teamVocabularyIssues(
  vocabulary: Vocabulary,
  team: { skills: readonly string[] },
): VocabularyIssue[] {
  return unknownSkills(vocabulary, team.skills, (i) => `skills[${i}]`);
}
