import { AllTopics, DeadLetterTopics, Topics } from './topics';

describe('topic catalogue', () => {
  it('keeps the conversation log forever and never compacts it', () => {
    expect(Topics.events.retentionMs).toBe(-1);
    expect(Topics.events.cleanupPolicy).toBe('delete');
  });

  it('gives every topic a dead-letter topic that exists in the catalogue', () => {
    const names = new Set(AllTopics.map((t) => t.name));
    for (const t of Object.values(Topics)) expect(names.has(t.deadLetter!)).toBe(true);
    expect(DeadLetterTopics.every((t) => t.deadLetter === undefined)).toBe(true);
  });

  it('names topics uniquely', () => {
    expect(new Set(AllTopics.map((t) => t.name)).size).toBe(AllTopics.length);
  });
});
