import { issuesOf } from '@support/contracts';
import {
  agentInputSchema,
  agentPatchSchema,
  nextOnDuty,
  onDuty,
  skillLevel,
  splitSkills,
  type WorkingHours,
} from './directory';

const valid = {
  name: 'Ada Agent',
  team: 'Support',
  skills: ['general', { name: 'billing', level: 5 }],
  languages: ['en', 'pt-BR'],
  maxConcurrent: 3,
};

/** The field issues the admin API would answer for this body, or [] when it is valid. */
const issues = (
  body: unknown,
  schema: typeof agentInputSchema | typeof agentPatchSchema = agentInputSchema,
) => {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : issuesOf(parsed.error);
};
const fields = (body: unknown) => issues(body).map((i) => i.field);

const officeHours: WorkingHours = {
  mon: [['09:00', '17:00']],
  tue: [['09:00', '17:00']],
  wed: [['09:00', '17:00']],
  thu: [['09:00', '17:00']],
  fri: [['09:00', '17:00']],
};

describe('the agent input schema', () => {
  it('accepts a minimal agent and fills the defaults', () => {
    const agent = agentInputSchema.parse(valid);
    expect(agent).toEqual({
      name: 'Ada Agent',
      team: 'Support',
      email: '',
      skills: [
        { name: 'general', level: 3 },
        { name: 'billing', level: 5 },
      ],
      languages: ['en', 'pt-BR'],
      maxConcurrent: 3,
      active: true,
      workingHours: null,
      timeZone: 'UTC',
    });
  });

  it('accepts working hours with several ranges, a range to 24:00, a time zone and an email', () => {
    const parsed = agentInputSchema.safeParse({
      ...valid,
      workingHours: {
        mon: [
          ['08:00', '12:00'],
          ['13:00', '24:00'],
        ],
        sat: [],
      },
      timeZone: 'Europe/Berlin',
      email: 'ada@example.com',
    });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.workingHours).toEqual({
      mon: [
        ['08:00', '12:00'],
        ['13:00', '24:00'],
      ],
      sat: [],
    });
  });

  it('normalises skill names to lower case', () => {
    const agent = agentInputSchema.parse({
      ...valid,
      skills: [' Billing ', { name: 'API', level: 1 }],
    });
    expect(agent.skills).toEqual([
      { name: 'billing', level: 3 },
      { name: 'api', level: 1 },
    ]);
  });

  it('rejects an hour past 24:00 such as "25:00", naming the exact slot', () => {
    expect(issues({ ...valid, workingHours: { mon: [['09:00', '25:00']] } })).toEqual([
      expect.objectContaining({ field: 'workingHours.mon[0][1]', rule: 'invalid_format' }),
    ]);
    expect(fields({ ...valid, workingHours: { tue: [['9:00', '17:00']] } })).toEqual([
      'workingHours.tue[0][0]',
    ]);
    expect(fields({ ...valid, workingHours: { tue: [['24:30', '24:00']] } })).toContain(
      'workingHours.tue[0][0]',
    );
  });

  it('rejects a range that ends before (or when) it starts', () => {
    expect(issues({ ...valid, workingHours: { wed: [['17:00', '09:00']] } })).toEqual([
      expect.objectContaining({
        field: 'workingHours.wed[0]',
        message: 'the end must be after the start',
      }),
    ]);
    expect(fields({ ...valid, workingHours: { wed: [['09:00', '09:00']] } })).toEqual([
      'workingHours.wed[0]',
    ]);
  });

  it('rejects an unknown weekday, naming it', () => {
    expect(issues({ ...valid, workingHours: { monday: [['09:00', '17:00']] } })).toEqual([
      { field: 'workingHours.monday', rule: 'unknown_field', message: 'unknown field: monday' },
    ]);
  });

  it('rejects a time zone that is not an IANA zone', () => {
    expect(issues({ ...valid, timeZone: 'Mars/Base' })).toEqual([
      expect.objectContaining({
        field: 'timeZone',
        message: 'an IANA time zone such as Europe/Berlin',
      }),
    ]);
    expect(fields({ ...valid, timeZone: 'America/New_York' })).toEqual([]);
  });

  it('rejects a language that is not a BCP 47 tag, naming its index', () => {
    expect(fields({ ...valid, languages: ['en', 'english!'] })).toEqual(['languages[1]']);
    expect(fields({ ...valid, languages: ['e'] })).toEqual(['languages[0]']);
    expect(fields({ ...valid, languages: [] })).toEqual(['languages']);
  });

  it('rejects a skill listed twice, also when spelt with another case or with a level', () => {
    expect(issues({ ...valid, skills: ['billing', 'billing'] })).toEqual([
      expect.objectContaining({ field: 'skills', message: 'a skill appears twice' }),
    ]);
    expect(fields({ ...valid, skills: ['Billing', { name: 'billing', level: 2 }] })).toEqual([
      'skills',
    ]);
  });

  it('rejects a skill level outside 1 to 5, naming the level', () => {
    expect(issues({ ...valid, skills: ['general', { name: 'billing', level: 6 }] })).toEqual([
      expect.objectContaining({ field: 'skills[1].level', rule: 'too_big' }),
    ]);
    expect(issues({ ...valid, skills: [{ name: 'billing', level: 0 }] })).toEqual([
      expect.objectContaining({ field: 'skills[0].level', rule: 'too_small' }),
    ]);
    // A fractional level matches neither form of a skill: the entry is named.
    expect(fields({ ...valid, skills: [{ name: 'billing', level: 2.5 }] })).toEqual([
      expect.stringMatching(/^skills\[0\]/),
    ]);
    expect(fields({ ...valid, skills: [{ name: 'billing', level: 5 }] })).toEqual([]);
    expect(fields({ ...valid, skills: [{ name: 'billing', level: 1 }] })).toEqual([]);
  });

  it('rejects an unknown field, naming it', () => {
    expect(issues({ ...valid, shift: 'night' })).toEqual([
      { field: 'shift', rule: 'unknown_field', message: 'unknown field: shift' },
    ]);
    expect(issues({ ...valid, skills: [{ name: 'billing', level: 2, since: 2020 }] })).toEqual([
      { field: 'skills[0].since', rule: 'unknown_field', message: 'unknown field: since' },
    ]);
  });

  it('rejects a negative or fractional capacity, a missing name and a bad email', () => {
    expect(fields({ ...valid, maxConcurrent: -1 })).toEqual(['maxConcurrent']);
    expect(fields({ ...valid, maxConcurrent: 1.5 })).toEqual(['maxConcurrent']);
    const { name: _name, ...nameless } = valid;
    expect(fields(nameless)).toEqual(['name']);
    expect(fields({ ...valid, email: 'not-an-email' })).toEqual(['email']);
  });

  it('fills no defaults into a patch, so that the fields it leaves out stay as they are', () => {
    expect(agentPatchSchema.parse({ maxConcurrent: 5 })).toEqual({ maxConcurrent: 5 });
    expect(agentPatchSchema.parse({ workingHours: null, active: false })).toEqual({
      workingHours: null,
      active: false,
    });
    expect(agentPatchSchema.parse({ skills: ['API'] })).toEqual({
      skills: [{ name: 'api', level: 3 }],
    });
  });

  it('lets a patch name any subset of fields but checks each one it names', () => {
    expect(agentPatchSchema.safeParse({ maxConcurrent: 5 }).success).toBe(true);
    expect(agentPatchSchema.safeParse({}).success).toBe(true);
    expect(issues({ maxConcurrent: 'five' }, agentPatchSchema).map((i) => i.field)).toEqual([
      'maxConcurrent',
    ]);
    expect(issues({ nickname: 'x' }, agentPatchSchema)).toEqual([
      expect.objectContaining({ field: 'nickname', rule: 'unknown_field' }),
    ]);
  });
});

describe('skills and levels', () => {
  it('splits skills into names for matching and levels beside them', () => {
    const { skills } = agentInputSchema.parse(valid);
    expect(splitSkills(skills)).toEqual({
      skills: ['general', 'billing'],
      skillLevels: { general: 3, billing: 5 },
    });
  });

  it('reads a missing level as 3', () => {
    expect(skillLevel({ skillLevels: { billing: 5 } }, 'billing')).toBe(5);
    expect(skillLevel({ skillLevels: { billing: 5 } }, 'refunds')).toBe(3);
    expect(skillLevel({}, 'billing')).toBe(3);
  });
});

describe('being on duty', () => {
  const berlin = { workingHours: officeHours, timeZone: 'Europe/Berlin' };
  const newYork = { workingHours: officeHours, timeZone: 'America/New_York' };

  it('counts the hours in the agent time zone, not in UTC', () => {
    // Monday 23 November 2026; Berlin is UTC+1 in winter.
    expect(onDuty(berlin, new Date('2026-11-23T08:30:00Z'))).toBe(true); // 09:30 local
    expect(onDuty(berlin, new Date('2026-11-23T16:30:00Z'))).toBe(false); // 17:30 local
    expect(onDuty(berlin, new Date('2026-11-23T07:59:00Z'))).toBe(false); // 08:59 local
    expect(onDuty(berlin, new Date('2026-11-23T08:00:00Z'))).toBe(true); // 09:00 local: the start counts
    expect(onDuty(berlin, new Date('2026-11-23T15:59:00Z'))).toBe(true); // 16:59 local
    expect(onDuty(berlin, new Date('2026-11-23T16:00:00Z'))).toBe(false); // 17:00 local: the end does not
  });

  it('uses the local weekday, which may differ from the UTC one', () => {
    const tokyo = {
      workingHours: { mon: [['00:00', '03:00']] } as WorkingHours,
      timeZone: 'Asia/Tokyo',
    };
    // Sunday 22 November 2026 16:00Z is Monday 01:00 in Tokyo (UTC+9).
    expect(onDuty(tokyo, new Date('2026-11-22T16:00:00Z'))).toBe(true);
    expect(onDuty(tokyo, new Date('2026-11-23T16:00:00Z'))).toBe(false); // Tuesday 01:00 there
  });

  it('is off duty on a day without hours', () => {
    expect(onDuty(berlin, new Date('2026-11-28T10:00:00Z'))).toBe(false); // Saturday 11:00 local
    expect(onDuty(berlin, new Date('2026-11-29T10:00:00Z'))).toBe(false); // Sunday
  });

  it('is on duty within any of several ranges of a day, and not between them', () => {
    const split = {
      workingHours: {
        mon: [
          ['08:00', '12:00'],
          ['13:00', '24:00'],
        ],
      } as WorkingHours,
    };
    expect(onDuty(split, new Date('2026-11-23T11:59:00Z'))).toBe(true);
    expect(onDuty(split, new Date('2026-11-23T12:30:00Z'))).toBe(false);
    expect(onDuty(split, new Date('2026-11-23T23:59:00Z'))).toBe(true); // UTC by default, to 24:00
    expect(onDuty(split, new Date('2026-11-24T00:00:00Z'))).toBe(false); // Tuesday
  });

  it('is always on duty without working hours', () => {
    for (const at of ['2026-11-28T03:00:00Z', '2026-11-23T12:00:00Z', '2026-07-05T23:59:00Z']) {
      expect(onDuty({ workingHours: null, timeZone: 'Europe/Berlin' }, new Date(at))).toBe(true);
      expect(onDuty({}, new Date(at))).toBe(true);
    }
  });

  it('is never on duty with empty working hours', () => {
    expect(onDuty({ workingHours: {} }, new Date('2026-11-23T12:00:00Z'))).toBe(false);
  });

  it('follows daylight saving time: the same UTC instant is in hours in July and not in January', () => {
    // 13:30Z on a Monday: 09:30 EDT (UTC-4) in July, 08:30 EST (UTC-5) in January.
    expect(onDuty(newYork, new Date('2026-07-06T13:30:00Z'))).toBe(true);
    expect(onDuty(newYork, new Date('2026-01-05T13:30:00Z'))).toBe(false);
    // 21:30Z on a Monday: 17:30 EDT in July (off), 16:30 EST in January (on).
    expect(onDuty(newYork, new Date('2026-07-06T21:30:00Z'))).toBe(false);
    expect(onDuty(newYork, new Date('2026-01-05T21:30:00Z'))).toBe(true);
  });
});

describe('when someone is next on duty', () => {
  const berlin = { workingHours: officeHours, timeZone: 'Europe/Berlin' };

  it('is now when one of the agents is on duty', () => {
    const now = new Date('2026-11-23T08:30:07Z');
    expect(nextOnDuty([berlin], now)).toEqual(now);
    expect(nextOnDuty([{ workingHours: {} }, { workingHours: null }], now)).toEqual(now);
  });

  it('is the next opening from a weekend: Monday 09:00 in Berlin is 08:00Z in winter', () => {
    expect(nextOnDuty([berlin], new Date('2026-11-28T12:00:00Z'))?.toISOString()).toBe(
      '2026-11-30T08:00:00.000Z',
    );
    expect(nextOnDuty([berlin], new Date('2026-11-21T12:00:00Z'))?.toISOString()).toBe(
      '2026-11-23T08:00:00.000Z',
    );
  });

  it('is later the same day after hours, to five minutes', () => {
    const split = {
      workingHours: {
        mon: [
          ['08:00', '12:00'],
          ['13:07', '18:00'],
        ],
      } as WorkingHours,
    };
    // Opens at 13:07; the answer is on the five-minute grid, at or after it.
    expect(nextOnDuty([split], new Date('2026-11-23T12:01:00Z'))?.toISOString()).toBe(
      '2026-11-23T13:10:00.000Z',
    );
  });

  it('is the earliest of several agents', () => {
    const newYork = { workingHours: officeHours, timeZone: 'America/New_York' };
    const tokyo = { workingHours: officeHours, timeZone: 'Asia/Tokyo' };
    // Saturday noon UTC: Tokyo opens first (Monday 09:00 JST = 00:00Z), then Berlin, then New York.
    const saturday = new Date('2026-11-21T12:00:00Z');
    expect(nextOnDuty([newYork, berlin, tokyo], saturday)?.toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(nextOnDuty([newYork, berlin], saturday)?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(nextOnDuty([newYork], saturday)?.toISOString()).toBe('2026-11-23T14:00:00.000Z');
  });

  it('is undefined when none of the agents has any hours, or there are no agents', () => {
    const now = new Date('2026-11-23T08:30:00Z');
    expect(nextOnDuty([{ workingHours: {} }, { workingHours: { sat: [] } }], now)).toBeUndefined();
    expect(nextOnDuty([], now)).toBeUndefined();
  });
});
