import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_POLICY_FILE } from './decide';
import { parsePolicy } from './policy';
import { canonicalJson } from './policy-version';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');

describe('policy versions: the document name and a hash of its content', () => {
  const policy = parsePolicy(shipped);

  it('is "<document version>@<8 hex digits>"', () => {
    const name = (parseYaml(shipped) as { version: string }).version;
    expect(policy.version).toMatch(new RegExp(`^${name}@[0-9a-f]{8}$`));
  });

  it('is the same for the same document, whatever its comments, key order, YAML or JSON', () => {
    const noComments = shipped.replace(/^\s*#.*$/gm, '');
    const asJson = JSON.stringify(parseYaml(shipped));
    const reordered = JSON.stringify(
      Object.fromEntries(Object.entries(parseYaml(shipped) as object).reverse()),
    );
    for (const text of [noComments, asJson, reordered])
      expect(parsePolicy(text).version).toBe(policy.version);
  });

  it('is the same when a default is written out (the validated document is hashed)', () => {
    const explicit = shipped.replace(
      '  - name: no_answer\n',
      '  - name: no_answer\n    effect: handoff\n    skills: []\n',
    );
    expect(explicit).not.toBe(shipped);
    expect(parsePolicy(explicit).version).toBe(policy.version);
  });

  it('changes with any change of content, even under the same document version', () => {
    const other = parsePolicy(shipped.replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.91'));
    expect(other.document.version).toBe(policy.document.version);
    expect(other.version).not.toBe(policy.version);
    expect(other.version.split('@')[0]).toBe(policy.version.split('@')[0]);
  });

  it('hashes canonical JSON: keys sorted at every depth, arrays in order, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined, b: 'x' } })).toBe(
      '{"a":{"b":"x","d":[2,1]},"b":1}',
    );
  });
});
