import { addSource, approveBody, canMoveTo } from './knowledge';

describe('knowledge suggestions at the desk', () => {
  const source = { conversationId: 'c1', handoffId: 'h1', agentId: 'a', question: 'q' };

  it('given a merge delivered twice, when its source is added, then it is kept once', () => {
    expect(addSource(addSource([], source), { ...source, question: 'again' })).toEqual([source]);
    expect(addSource([source], { ...source, handoffId: 'h2' })).toHaveLength(2);
  });

  it('given a decided suggestion, when a late decision arrives, then it keeps its own', () => {
    expect(canMoveTo('pending', 'approved')).toBe(true);
    expect(canMoveTo('approved', 'approved')).toBe(true);
    expect(canMoveTo('approved', 'expired')).toBe(false);
  });

  it('given an approval body, when checked, then an empty title or an unknown field is refused', () => {
    expect(approveBody.safeParse({ title: ' ' }).success).toBe(false);
    expect(approveBody.safeParse({ publish: true }).success).toBe(false);
    expect(approveBody.parse({ title: ' T ', tags: ['x'] })).toEqual({ title: 'T', tags: ['x'] });
  });
});
