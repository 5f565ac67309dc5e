import { z } from 'zod';

/**
 * The agents directory's rules: what an agent record may hold, and when an
 * agent is on duty. Pure; the admin API and the roster use it.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Weekly hours, local to the agent's time zone: per day, ranges of "HH:MM" (end may be "24:00"). */
export type WorkingHours = Partial<Record<Weekday, [string, string][]>>;

const DEFAULT_LEVEL = 3;

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM, 00:00 to 24:00');

const range = z
  .tuple([clock, clock])
  .refine(([from, to]) => minutes(from) < minutes(to), 'the end must be after the start');

export const workingHoursSchema = z.partialRecord(z.enum(WEEKDAYS), z.array(range).max(6));

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A skill's name: lower-cased, e.g. "billing". */
export const skillName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z][a-z0-9_-]{0,49}$/,
    'lower-case letters, digits, "-" or "_", starting with a letter',
  );

/** A skill as a name (level 3) or `{ name, level }` with level 1 (basic) to 5 (expert). */
const skillEntry = z.union([
  skillName.transform((name) => ({ name, level: DEFAULT_LEVEL })),
  z.strictObject({ name: skillName, level: z.number().int().min(1).max(5) }),
]);

const language = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as "en" or "pt-BR"');

const agentFields = {
  name: z.string().trim().min(1).max(200),
  team: z.string().trim().min(1).max(100),
  email: z.union([z.literal(''), z.email()]),
  skills: z
    .array(skillEntry)
    .max(50)
    .refine(
      (list) => new Set(list.map((s) => s.name)).size === list.length,
      'a skill appears twice',
    ),
  languages: z.array(language).min(1).max(20),
  maxConcurrent: z.number().int().min(0).max(100),
  active: z.boolean(),
  workingHours: workingHoursSchema.nullable(),
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin'),
};

/** An agent as the admin API accepts it (the id comes from the path). */
export const agentInputSchema = z.strictObject({
  ...agentFields,
  email: agentFields.email.default(''),
  skills: agentFields.skills.default([]),
  active: agentFields.active.default(true),
  workingHours: agentFields.workingHours.default(null),
  timeZone: agentFields.timeZone.default('UTC'),
});

export type AgentInput = z.output<typeof agentInputSchema>;

/** Some fields of an agent; without defaults, so that a field left out stays as it is. */
export const agentPatchSchema = z.strictObject(agentFields).partial();

export const agentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" or "-" (1-100)');

/** The stored shape of an agent's skills: names for matching, levels beside them. */
export function splitSkills(skills: AgentInput['skills']): {
  skills: string[];
  skillLevels: Record<string, number>;
} {
  return {
    skills: skills.map((s) => s.name),
    skillLevels: Object.fromEntries(skills.map((s) => [s.name, s.level])),
  };
}

export function skillLevel(
  agent: { skillLevels?: Readonly<Record<string, number>> },
  skillName: string,
): number {
  return agent.skillLevels?.[skillName] ?? DEFAULT_LEVEL;
}

const dayAndMinute = (now: Date, timeZone: string): { day: Weekday; minute: number } => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').toLowerCase().slice(0, 3) as Weekday;
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
};

/** Within the agent's working hours now (always, when they have none). */
export function onDuty(
  agent: { workingHours?: WorkingHours | null; timeZone?: string },
  now: Date,
): boolean {
  if (!agent.workingHours) return true;
  const { day, minute } = dayAndMinute(now, agent.timeZone || 'UTC');
  return (agent.workingHours[day] ?? []).some(
    ([from, to]) => minute >= minutes(from) && minute < minutes(to),
  );
}

const STEP_MS = 5 * 60 * 1000;
const HORIZON_MS = 8 * 24 * 60 * 60 * 1000;

/**
 * When the first of these agents is next on duty (now, if one is), to five
 * minutes; undefined when none has any working hours within eight days.
 */
export function nextOnDuty(
  agents: readonly { workingHours?: WorkingHours | null; timeZone?: string }[],
  now: Date,
): Date | undefined {
  if (agents.length === 0) return undefined;
  const start = Math.ceil(now.getTime() / STEP_MS) * STEP_MS;
  if (agents.some((a) => onDuty(a, now))) return now;
  for (let t = start; t <= now.getTime() + HORIZON_MS; t += STEP_MS) {
    const at = new Date(t);
    if (agents.some((a) => onDuty(a, at))) return at;
  }
  return undefined;
}
