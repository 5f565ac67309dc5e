import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_MODEL_ID,
  findModel,
  locateModelFiles,
  ModelFilesMissingError,
  MODELS,
  modelText,
} from './models.js';

const pom = readFileSync(join(__dirname, '../../../deploy/local/models/pom.xml'), 'utf8');
/** The `<dependencies>` of a profile of the pom, with its version properties resolved. */
function profileArtifacts(id: string): string[] {
  const profile = new RegExp(`<id>${id}</id>([\\s\\S]*?)</profile>`).exec(pom)?.[1] ?? '';
  const props = Object.fromEntries(
    [...pom.matchAll(/<([a-z0-9.]+)\.version>([^<]+)</g)].map((m) => [m[1], m[2]]),
  );
  return [...profile.matchAll(/<artifactId>([^<*]+)<\/artifactId>\s*<version>([^<]+)</g)].map(
    ([, artifact, version]) =>
      `${artifact}:${version.replace(/\$\{([a-z0-9]+)\.version\}/, (_, p: string) => props[p])}`,
  );
}

describe('models', () => {
  it('the pom fetches every model of the catalogue, and the default one by default', () => {
    const coordinates = (id: string) => `${MODELS[id].artifactId}:${MODELS[id].version}`;
    expect(profileArtifacts('all').sort()).toEqual(Object.keys(MODELS).map(coordinates).sort());
    expect(profileArtifacts('chosen')).toEqual([coordinates(DEFAULT_MODEL_ID)]);
  });

  it('prefixes texts by role only for models trained so (e5)', () => {
    const e5 = findModel('e5-small-v2-q');
    expect(modelText(e5, 'reset my password', 'query')).toBe('query: reset my password');
    expect(modelText(e5, 'To reset it…', 'passage')).toBe('passage: To reset it…');
    const minilm = findModel('all-minilm-l6-v2-q');
    expect(modelText(minilm, 'reset my password', 'passage')).toBe('reset my password');
  });

  it('names the fetch command when the files are missing, and finds them when present', () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    const model = findModel(DEFAULT_MODEL_ID);
    expect(() => locateModelFiles(model, dir)).toThrow(ModelFilesMissingError);
    expect(() => locateModelFiles(model, dir)).toThrow(
      /run `bash deploy\/local\/models\/fetch.sh`/,
    );
    const other = Object.values(MODELS).find((m) => m.id !== DEFAULT_MODEL_ID)!;
    expect(() => locateModelFiles(other, dir)).toThrow(/fetch.sh --all`/);

    const folder = join(dir, `${model.artifactId}-${model.version}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'm.onnx'), '');
    expect(() => locateModelFiles(model, dir)).toThrow(/no tokenizer.json/);
    writeFileSync(join(folder, 'm-tokenizer.json'), '{}');
    expect(locateModelFiles(model, dir)).toEqual({
      onnx: join(folder, 'm.onnx'),
      tokenizer: join(folder, 'm-tokenizer.json'),
    });
  });

  it('refuses an unknown model, naming the known ones', () => {
    expect(() => findModel('gpt-9')).toThrow(/unknown sentence-encoder model 'gpt-9' \(known: /);
  });
});
