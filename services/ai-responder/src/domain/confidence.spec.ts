import type { Evidence } from './answer';
import {
  confidenceModel,
  confidenceOf,
  featureVector,
  FEATURES,
  type ConfidenceModel,
} from './confidence';

const evidence = (over: Partial<Evidence> = {}): Evidence => ({
  retrieval: 0.5,
  margin: 0.5,
  coverage: 0.5,
  classifier: 0.8,
  outOfScope: 0.1,
  grounding: 1,
  similarity: 0.3,
  agreement: 1,
  ...over,
});

const grid = [0, 0.25, 0.5, 0.75, 1];

describe('confidenceOf', () => {
  it.each([['coverage'], ['margin'], ['retrieval'], ['similarity'], ['agreement']] as const)(
    'never falls as %s grows, and rises from its lowest to its highest',
    (feature) => {
      for (const base of [evidence(), evidence({ coverage: 0.9, margin: 0.9, retrieval: 0.9 })]) {
        const values = grid.map((v) => confidenceOf({ ...base, [feature]: v }));
        for (let i = 1; i < values.length; i++)
          expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        expect(values.at(-1)).toBeGreaterThan(values[0]);
      }
    },
  );

  it('falls as the message looks more out of scope', () => {
    expect(confidenceOf(evidence({ outOfScope: 0.9 }))).toBeLessThan(
      confidenceOf(evidence({ outOfScope: 0 })),
    );
  });

  it('is scaled by grounding: half the grounding, half the confidence; none, none', () => {
    const strong = evidence({ coverage: 1, margin: 1, retrieval: 0.8 });
    const full = confidenceOf(strong);
    expect(full).toBeGreaterThan(0.5);
    expect(confidenceOf({ ...strong, grounding: 0.5 })).toBeCloseTo(full / 2, 2);
    expect(confidenceOf({ ...strong, grounding: 0 })).toBe(0);
  });

  it('ignores grounding in the model: only the listed features are weighed', () => {
    expect(FEATURES).not.toContain('grounding');
    expect(featureVector(evidence({ grounding: 0.2 }))).toEqual(featureVector(evidence()));
    expect(featureVector(evidence())).toEqual([0.5, 0.5, 0.5, 0.8, 0.1, 0.3, 1]);
  });

  it('stays within 0..1 at the extremes and rounds to 3 places', () => {
    const all = (v: number) =>
      evidence({
        retrieval: v,
        margin: v,
        coverage: v,
        classifier: v,
        outOfScope: 1 - v,
        similarity: v,
      });
    for (const v of grid) {
      const c = confidenceOf(all(v));
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
      expect(Math.round(c * 1000) / 1000).toBe(c);
    }
    expect(confidenceOf(all(1))).toBeGreaterThan(confidenceModel.threshold);
    expect(confidenceOf(all(0))).toBeLessThan(0.01);
  });

  it('given a model, when used, then it is its logistic function', () => {
    const model: ConfidenceModel = { bias: 0, weights: [1, 0, 0, 0, 0, 0], threshold: 0.5 };
    expect(confidenceOf(evidence({ retrieval: 0 }), model)).toBe(0.5);
    expect(confidenceOf(evidence({ retrieval: 2 }), model)).toBe(
      Math.round((1 / (1 + Math.exp(-2))) * 1000) / 1000,
    );
    expect(confidenceOf(evidence({ retrieval: 0, grounding: 0.5 }), model)).toBe(0.25);
  });

  it('given a model with fewer weights than features, when used, then the missing ones count as 0', () => {
    expect(confidenceOf(evidence(), { bias: 0, weights: [], threshold: 0.5 })).toBe(0.5);
  });

  it('given the fitted model, when loaded, then it weighs every feature and has a threshold in 0..1', () => {
    expect(confidenceModel.weights).toHaveLength(FEATURES.length);
    expect(confidenceModel.threshold).toBeGreaterThan(0);
    expect(confidenceModel.threshold).toBeLessThan(1);
  });
});
