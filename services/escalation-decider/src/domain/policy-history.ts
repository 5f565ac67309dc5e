import {
  PolicyActivationKind,
  type PolicyActivation,
  type PolicyRecord,
  type PolicyVersion,
} from '@support/contracts';
import { Policy, policyFromObject, PolicyError } from './policy.js';

/**
 * The fold of the policy.versions topic for one policy set: the versions
 * stored (immutable, the first record of a version wins) and the activations
 * in the topic's order. The latest activation is in force; before any, the
 * replica's policy file (the seed) is.
 */
export interface StoredVersion {
  version: string;
  policy: Policy;
  source: string;
  author: string;
  keyId: string;
  createdAt: string;
  origin: string;
}

export interface Activation {
  activationId: string;
  version: string;
  previousVersion: string;
  kind: 'activate' | 'rollback';
  actor: string;
  keyId: string;
  activatedAt: string;
  reason: string;
}

export interface PolicyHistory {
  readonly policySet: string;
  /** In the order they were stored. */
  readonly versions: ReadonlyMap<string, StoredVersion>;
  /** Oldest first; only activations of a stored version. */
  readonly activations: readonly Activation[];
}

/** What a record did to the history; `ignored` says why it changed nothing (for the log). */
export interface Applied {
  history: PolicyHistory;
  ignored?: string;
}

export const initialHistory = (policySet: string): PolicyHistory => ({
  policySet,
  versions: new Map(),
  activations: [],
});

export function evolveHistory(history: PolicyHistory, record: PolicyRecord): Applied {
  if (record.policySet !== history.policySet) return { history, ignored: 'another policy set' };
  switch (record.record.case) {
    case 'version':
      return storeVersion(history, record.record.value);
    case 'activation':
      return activate(history, record.record.value);
    default:
      return { history, ignored: 'neither a version nor an activation' };
  }
}

function storeVersion(history: PolicyHistory, v: PolicyVersion): Applied {
  if (!v.version) return { history, ignored: 'a version without its name' };
  if (history.versions.has(v.version))
    return { history, ignored: `${v.version} is stored already` };
  let policy: Policy;
  try {
    const document = policyFromObject(JSON.parse(v.documentJson), v.version).document;
    // The version is what was stored: a later release's defaults must not rename it.
    policy = new Policy(document, v.version);
  } catch (err) {
    const reason = err instanceof PolicyError ? err.message : (err as Error).message;
    return { history, ignored: `${v.version} is not a valid policy: ${reason}` };
  }
  const versions = new Map(history.versions);
  versions.set(v.version, {
    version: v.version,
    policy,
    source: v.source,
    author: v.author,
    keyId: v.keyId,
    createdAt: v.createdAt,
    origin: v.origin,
  });
  return { history: { ...history, versions } };
}

function activate(history: PolicyHistory, a: PolicyActivation): Applied {
  if (!history.versions.has(a.version))
    return {
      history,
      ignored: `activation ${a.activationId} names an unknown version ${a.version}`,
    };
  // A follower group commits no offsets, so a rejoin reads the topic again from the start.
  if (history.activations.some((x) => x.activationId === a.activationId))
    return { history, ignored: `activation ${a.activationId} applied already` };
  const activation: Activation = {
    activationId: a.activationId,
    version: a.version,
    previousVersion: a.previousVersion,
    kind: a.kind === PolicyActivationKind.ROLLBACK ? 'rollback' : 'activate',
    actor: a.actor,
    keyId: a.keyId,
    activatedAt: a.activatedAt,
    reason: a.reason,
  };
  return { history: { ...history, activations: [...history.activations, activation] } };
}

/** The activation in force; undefined while the policy file is. */
export const currentActivation = (h: PolicyHistory): Activation | undefined =>
  h.activations[h.activations.length - 1];

/** The stored policy in force; undefined while the policy file is. */
export function activePolicy(h: PolicyHistory): Policy | undefined {
  const a = currentActivation(h);
  return a ? h.versions.get(a.version)?.policy : undefined;
}

export type VersionStatus = 'active' | 'previous' | 'candidate';

export interface VersionSummary {
  version: string;
  /** The document's own version field. */
  name: string;
  description: string;
  status: VersionStatus;
  origin: string;
  author: string;
  createdAt: string;
  /** When it was put in force, by whom, oldest first. */
  activations: { at: string; actor: string; kind: Activation['kind'] }[];
}

/** Every version: the one in force, those in force earlier, and candidates never activated. */
export function listVersions(h: PolicyHistory, seed: Policy, seedOrigin: string): VersionSummary[] {
  const active = currentActivation(h)?.version ?? seed.version;
  const everActive = new Set(h.activations.flatMap((a) => [a.version, a.previousVersion]));
  const summary = (
    v: Pick<StoredVersion, 'version' | 'policy' | 'origin' | 'author' | 'createdAt'>,
  ): VersionSummary => ({
    version: v.version,
    name: v.policy.document.version,
    description: v.policy.document.description,
    status: v.version === active ? 'active' : everActive.has(v.version) ? 'previous' : 'candidate',
    origin: v.origin,
    author: v.author,
    createdAt: v.createdAt,
    activations: h.activations
      .filter((a) => a.version === v.version)
      .map((a) => ({ at: a.activatedAt, actor: a.actor, kind: a.kind })),
  });
  const list = [...h.versions.values()].map(summary);
  // The file in force before any activation, not (yet) stored on the topic.
  if (!currentActivation(h) && !h.versions.has(seed.version))
    list.unshift(
      summary({
        version: seed.version,
        policy: seed,
        origin: seedOrigin,
        author: '',
        createdAt: '',
      }),
    );
  return list;
}

export type Refusal = { code: 'not_found' | 'conflict'; message: string };

/**
 * The version a rollback activates: `requested`, which must have been in
 * force before and not be now, or else the version in force before the
 * current activation.
 */
export function rollbackTarget(h: PolicyHistory, requested?: string): string | Refusal {
  const current = currentActivation(h);
  if (!current)
    return {
      code: 'conflict',
      message: 'nothing to roll back: no version has been activated over the policy file',
    };
  if (!requested) {
    if (!h.versions.has(current.previousVersion))
      return {
        code: 'conflict',
        message: `the version in force before ${current.version} (${current.previousVersion || 'none'}) is not stored`,
      };
    return current.previousVersion;
  }
  if (!h.versions.has(requested))
    return { code: 'not_found', message: `no policy version ${requested}` };
  if (requested === current.version)
    return { code: 'conflict', message: `${requested} is the version in force` };
  const before = h.activations.some(
    (a) => a.version === requested || a.previousVersion === requested,
  );
  if (!before)
    return {
      code: 'conflict',
      message: `${requested} was never in force: activate it instead of rolling back to it`,
    };
  return requested;
}
