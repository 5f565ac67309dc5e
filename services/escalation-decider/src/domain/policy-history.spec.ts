import { readFileSync } from 'node:fs';
import {
  create,
  PolicyActivationKind,
  PolicyRecordSchema,
  type PolicyRecord,
} from '@support/contracts';
import { DEFAULT_POLICY_FILE } from './decide';
import { parsePolicy, type Policy } from './policy';
import {
  activePolicy,
  currentActivation,
  evolveHistory,
  initialHistory,
  listVersions,
  rollbackTarget,
  type PolicyHistory,
} from './policy-history';
import { canonicalJson } from './policy-version';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
const named = (name: string, minConfidence: number) =>
  parsePolicy(
    shipped
      .replace(/^version: .*$/m, `version: ${name}`)
      .replace(/minConfidence: [0-9.]+/, `minConfidence: ${minConfidence}`),
  );
const seed = parsePolicy(shipped);
const strict = named('strict-1', 0.99);
const lenient = named('lenient-1', 0.5);

const SET = 'default';
let n = 0;
const stored = (p: Policy, set = SET, documentJson = canonicalJson(p.document)): PolicyRecord =>
  create(PolicyRecordSchema, {
    policySet: set,
    record: {
      case: 'version',
      value: {
        version: p.version,
        documentJson,
        author: 'ana',
        createdAt: `2026-01-01T00:00:0${n++ % 10}Z`,
        origin: 'api',
      },
    },
  });
const activated = (
  version: string,
  previousVersion: string,
  kind = PolicyActivationKind.ACTIVATE,
  set = SET,
): PolicyRecord =>
  create(PolicyRecordSchema, {
    policySet: set,
    record: {
      case: 'activation',
      value: {
        activationId: `act-${n++}`,
        version,
        previousVersion,
        kind,
        actor: 'ana',
        activatedAt: `2026-01-02T00:00:0${n % 10}Z`,
      },
    },
  });

/** Given these records on the topic, the history. */
const fold = (...records: PolicyRecord[]): PolicyHistory =>
  records.reduce((h, r) => evolveHistory(h, r).history, initialHistory(SET));

describe('the fold of policy.versions into the policy in force', () => {
  it('leaves the policy file in force while nothing was activated', () => {
    const h = fold(stored(strict));
    expect(activePolicy(h)).toBeUndefined();
    expect(currentActivation(h)).toBeUndefined();
    expect(listVersions(h, seed, 'file:default.yaml')).toEqual([
      expect.objectContaining({
        version: seed.version,
        status: 'active',
        origin: 'file:default.yaml',
      }),
      expect.objectContaining({ version: strict.version, status: 'candidate', author: 'ana' }),
    ]);
  });

  it('puts the latest activation in force, with the stored policy deciding under its version', () => {
    const h = fold(
      stored(seed),
      stored(strict),
      stored(lenient),
      activated(strict.version, seed.version),
      activated(lenient.version, strict.version),
    );
    expect(activePolicy(h)?.version).toBe(lenient.version);
    expect(activePolicy(h)?.threshold('minConfidence', NaN)).toBe(0.5);
    expect(listVersions(h, seed, 'file:x').map((v) => [v.version, v.status])).toEqual([
      [seed.version, 'previous'],
      [strict.version, 'previous'],
      [lenient.version, 'active'],
    ]);
  });

  it('keeps a version as first stored: a second record of it changes nothing', () => {
    const tampered = stored(strict, SET, canonicalJson(lenient.document));
    const { history, ignored } = evolveHistory(fold(stored(strict)), tampered);
    expect(ignored).toMatch(/stored already/);
    expect(history.versions.get(strict.version)?.policy.threshold('minConfidence', NaN)).toBe(0.99);
  });

  it('applies an activation once: the same record read again (a follower re-reading its topic) changes nothing', () => {
    const first = activated(strict.version, seed.version);
    const second = activated(lenient.version, strict.version);
    const history = fold(stored(seed), stored(strict), stored(lenient), first, second);
    const { history: again, ignored } = evolveHistory(history, first);
    expect(ignored).toMatch(/applied already/);
    expect(again.activations.map((a) => a.version)).toEqual([strict.version, lenient.version]);
    expect(currentActivation(again)?.version).toBe(lenient.version);
  });

  it('names a stored version by its record, even if its document would hash otherwise today', () => {
    const h = fold(
      create(PolicyRecordSchema, {
        policySet: SET,
        record: {
          case: 'version',
          value: { version: 'legacy-1@00000000', documentJson: canonicalJson(strict.document) },
        },
      }),
      activated('legacy-1@00000000', seed.version),
    );
    expect(activePolicy(h)?.version).toBe('legacy-1@00000000');
  });

  it('ignores an activation of a version it does not hold, and a document that is not a policy', () => {
    const broken = stored(strict, SET, '{"version":"x"}');
    const first = evolveHistory(initialHistory(SET), broken);
    expect(first.ignored).toMatch(/not a valid policy/);
    const second = evolveHistory(first.history, activated(strict.version, seed.version));
    expect(second.ignored).toMatch(/unknown version/);
    expect(activePolicy(second.history)).toBeUndefined();
  });

  it("ignores another policy set's records", () => {
    const h = fold(
      stored(strict, 'staging'),
      activated(strict.version, seed.version, undefined, 'staging'),
    );
    expect(h.versions.size).toBe(0);
    expect(h.activations).toHaveLength(0);
  });

  describe('rollback', () => {
    const history = fold(
      stored(seed),
      stored(strict),
      stored(lenient),
      activated(strict.version, seed.version),
      activated(lenient.version, strict.version),
    );

    it('goes back to the version in force before the current one', () => {
      expect(rollbackTarget(history)).toBe(strict.version);
      const after = fold(
        stored(seed),
        stored(strict),
        stored(lenient),
        activated(strict.version, seed.version),
        activated(lenient.version, strict.version),
        activated(strict.version, lenient.version, PolicyActivationKind.ROLLBACK),
      );
      expect(activePolicy(after)?.version).toBe(strict.version);
      expect(currentActivation(after)?.kind).toBe('rollback');
    });

    it('to a named earlier version, the policy file included once it was stored', () => {
      expect(rollbackTarget(history, seed.version)).toBe(seed.version);
    });

    it('refuses what was never in force, what is in force, what is unknown, and an empty history', () => {
      const withCandidate = fold(
        stored(seed),
        stored(strict),
        stored(lenient),
        activated(strict.version, seed.version),
      );
      expect(rollbackTarget(withCandidate, lenient.version)).toEqual({
        code: 'conflict',
        message: expect.stringContaining('never in force'),
      });
      expect(rollbackTarget(withCandidate, strict.version)).toEqual({
        code: 'conflict',
        message: expect.stringContaining('in force'),
      });
      expect(rollbackTarget(withCandidate, 'nope@12345678')).toEqual(
        expect.objectContaining({ code: 'not_found' }),
      );
      expect(rollbackTarget(fold(stored(strict)))).toEqual(
        expect.objectContaining({ code: 'conflict', message: expect.stringContaining('nothing') }),
      );
    });
  });
});
