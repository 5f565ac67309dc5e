import { agentFacts, AGENT_SHOWN, changedFields, presenceChange, putChange } from './audit';

const row = {
  name: 'Ada',
  team: 'billing',
  email: 'ada@example.com',
  skills: ['billing', 'refunds'],
  skillLevels: { billing: 5 },
  languages: ['en', 'de'],
  maxConcurrent: 3,
  active: true,
  workingHours: { mon: [{ from: '09:00', to: '17:00' }] },
  timeZone: 'Europe/Berlin',
};

describe('audited directory changes', () => {
  it('records a new agent with its shown fields, never the e-mail address or the schedule', () => {
    const change = putChange('agent', undefined, agentFacts(row), AGENT_SHOWN);
    expect(change).toEqual({
      action: 'agent.created',
      detail: {
        name: 'Ada',
        team: 'billing',
        skills: { billing: 5, refunds: 3 },
        languages: ['en', 'de'],
        maxConcurrent: 3,
        active: true,
        timeZone: 'Europe/Berlin',
      },
    });
  });

  it('records an update with the changed field names and the new values of the shown ones', () => {
    const after = agentFacts({
      ...row,
      email: 'ada@new.example.com',
      maxConcurrent: 5,
      skillLevels: { billing: 4 },
    });
    expect(putChange('agent', agentFacts(row), after, AGENT_SHOWN)).toEqual({
      action: 'agent.updated',
      detail: {
        changed: ['email', 'skills', 'maxConcurrent'],
        skills: { billing: 4, refunds: 3 },
        maxConcurrent: 5,
      },
    });
  });

  it('records nothing for a put that changes nothing, skills in another order included', () => {
    const reordered = agentFacts({ ...row, skills: ['refunds', 'billing'] });
    expect(putChange('agent', agentFacts(row), reordered, AGENT_SHOWN)).toBeUndefined();
  });

  it('tells a changed order of languages (a preference) from an unchanged list', () => {
    expect(changedFields(agentFacts(row), agentFacts({ ...row, languages: ['de', 'en'] }))).toEqual(
      ['languages'],
    );
  });

  it('cuts a long description in the detail', () => {
    const description = 'x'.repeat(500);
    const change = putChange('skill', { description: '' }, { description }, ['description']);
    expect(change?.action).toBe('skill.updated');
    expect(change?.detail.description).toBe(`${'x'.repeat(120)}…`);
  });

  it('records a presence that changed, not a heartbeat repeating it', () => {
    expect(presenceChange('offline', 'online')).toEqual({
      action: 'agent.presence_changed',
      detail: { status: 'online', previous: 'offline' },
    });
    expect(presenceChange('online', 'online')).toBeUndefined();
  });
});
