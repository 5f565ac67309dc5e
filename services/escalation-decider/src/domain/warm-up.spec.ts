import { loadDefaultPolicy } from './decide';
import { NO_CONTEXT } from './context';
import { detectHumanRequest } from './human-request';
import { warmUpDecisions } from './warm-up';

describe('warming the decisions up at start-up', () => {
  it('runs the request-for-a-person detector on texts of its own, twice each, through the whole decision', async () => {
    const asked: string[] = [];
    const ms = await warmUpDecisions(loadDefaultPolicy(), {
      ...NO_CONTEXT,
      detectHumanRequest: (text) => {
        asked.push(text);
        return Promise.resolve(detectHumanRequest(text));
      },
    });
    // (the detector keeps answers by text: each round must ask with a new one to run the lexicons)
    expect(asked).toHaveLength(4);
    expect(new Set(asked).size).toBe(4);
    expect(ms).toBeGreaterThan(0);
  });
});
