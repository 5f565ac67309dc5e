import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMarkdown } from '../domain/kb/import';
import { INTENTS } from '../domain/taxonomy';

const root = join(__dirname, '..', '..');
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim());

describe('the data the responder ships with and is measured on', () => {
  const seedDir = join(root, 'seed', 'kb');
  const seed = readdirSync(seedDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => {
      const parsed = parseMarkdown(readFileSync(join(seedDir, f), 'utf8'), f, {
        status: 'published',
        locale: 'en',
      });
      return { file: f, ...parsed };
    });

  it('has a valid demo knowledge base: every file one article, named by its id', () => {
    expect(seed.flatMap((s) => s.issues)).toEqual([]);
    for (const s of seed) expect(`${s.articles[0].id}.md`).toBe(s.file);
    expect(seed.filter((s) => s.articles[0].status === 'published').length).toBeGreaterThan(30);
  });

  it('labels every answerable question with a published English article, and only those', () => {
    const published = new Set(
      seed
        .map((s) => s.articles[0])
        .filter((a) => a.status === 'published' && a.locale === 'en')
        .map((a) => a.id),
    );
    const questions = lines(join(root, 'eval', 'kb-questions.jsonl')).map(
      (l) =>
        JSON.parse(l) as { id: string; expected: string | null; kind: string; question: string },
    );
    expect(new Set(questions.map((q) => q.id)).size).toBe(questions.length);
    for (const q of questions) {
      if (q.kind === 'answerable') expect(published.has(q.expected ?? '')).toBe(true);
      else
        expect([q.kind, q.expected]).toEqual([
          expect.stringMatching(/unanswerable|injection/),
          null,
        ]);
    }
    const kinds = new Set(questions.map((q) => q.kind));
    expect([...kinds].sort()).toEqual(['answerable', 'injection', 'unanswerable']);
  });

  it('trains the intent classifier on exactly the taxonomy, with a held-out set for every intent', () => {
    const files = readdirSync(join(root, 'corpus', 'intents')).map((f) => f.replace(/\.txt$/, ''));
    expect(files.sort()).toEqual([...INTENTS].sort());
    const held = lines(join(root, 'corpus', 'eval', 'intents.jsonl')).map(
      (l) => JSON.parse(l) as { text: string; intent: string },
    );
    expect(new Set(held.map((h) => h.intent))).toEqual(new Set(INTENTS));
    const training = new Set(
      files.flatMap((f) => lines(join(root, 'corpus', 'intents', `${f}.txt`)).map((l) => l.trim())),
    );
    expect(held.filter((h) => training.has(h.text.trim()))).toEqual([]);
  });
});
