import { describe, expect, it } from '@jest/globals';
import type { Rules } from '../api';
import { policyInForce } from './policy';

const rules = (over: Partial<Rules>): Rules => ({
  filters: {} as Rules['filters'],
  rules: [],
  ...over,
});

describe('the escalation policy in force, on the dashboard', () => {
  it('is the version the rules view names', () => {
    expect(
      policyInForce({ state: 'ok', data: rules({ policyVersion: 'strict-1@01e9fdf6' }) }),
    ).toEqual({ state: 'known', version: 'strict-1@01e9fdf6' });
  });

  it('says why it is unknown when the decider could not be read, or the view failed', () => {
    expect(
      policyInForce({
        state: 'ok',
        data: rules({ policyVersion: null, policyError: 'the escalation decider is unreachable' }),
      }),
    ).toEqual({ state: 'unknown', why: 'the escalation decider is unreachable' });
    expect(policyInForce({ state: 'error', message: '502 Bad Gateway' })).toEqual({
      state: 'unknown',
      why: '502 Bad Gateway',
    });
    expect(policyInForce({ state: 'loading' })).toEqual({ state: 'loading' });
  });
});
