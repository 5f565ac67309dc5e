#!/usr/bin/env node
// Checks the Markdown knowledge base, the import fixtures and the labelled question set.
// Usage: node services/ai-responder/eval/check-kb.mjs
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import matter from 'gray-matter';
import * as cheerio from 'cheerio';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEYS = ['id', 'title', 'tags', 'locale', 'productAreas', 'status'];
const STATUSES = new Set(['draft', 'published', 'retired']);
const problems = [];
const fail = (msg) => problems.push(msg);

function loadMarkdown(dir) {
  const out = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
    const raw = readFileSync(join(dir, file), 'utf8');
    if (!raw.startsWith('---\n')) fail(`${file}: does not start with front matter`);
    let parsed;
    try {
      parsed = matter(raw);
    } catch (e) {
      fail(`${file}: invalid front matter: ${e.message}`);
      continue;
    }
    const d = parsed.data;
    const keys = Object.keys(d);
    if (keys.join() !== KEYS.join()) fail(`${file}: keys ${keys.join()} instead of ${KEYS.join()}`);
    if (typeof d.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(d.id)) fail(`${file}: id is not a slug`);
    if (`${d.id}.md` !== file) fail(`${file}: id ${d.id} does not match the file name`);
    if (typeof d.title !== 'string' || !d.title.trim()) fail(`${file}: empty title`);
    for (const k of ['tags', 'productAreas'])
      if (!Array.isArray(d[k]) || d[k].length === 0 || d[k].some((t) => typeof t !== 'string'))
        fail(`${file}: ${k} must be a non-empty list of strings`);
    if (typeof d.locale !== 'string' || !/^[a-z]{2}$/.test(d.locale)) fail(`${file}: bad locale`);
    if (!STATUSES.has(d.status)) fail(`${file}: bad status ${d.status}`);
    const words = parsed.content.split(/\s+/).filter(Boolean).length;
    out.push({ ...d, file, words, body: parsed.content });
  }
  return out;
}

// 1. Knowledge base
const kb = loadMarkdown(join(root, 'seed', 'kb'));
const byId = new Map();
for (const a of kb) {
  if (byId.has(a.id)) fail(`duplicate article id ${a.id}`);
  byId.set(a.id, a);
}
for (const a of kb)
  if (a.words < 150 || a.words > 450) console.warn(`note: ${a.id} has ${a.words} words (target 150-450)`);

// The JSON seed articles must be present with the same metadata.
const seed = JSON.parse(readFileSync(join(root, 'seed', 'articles.json'), 'utf8'));
for (const s of seed) {
  const a = byId.get(s.id);
  if (!a) {
    fail(`seed article ${s.id} has no Markdown file`);
    continue;
  }
  for (const k of KEYS)
    if (JSON.stringify(a[k]) !== JSON.stringify(s[k])) fail(`${s.id}: ${k} differs from articles.json`);
}

// 2. Fixtures
const fixtureMd = loadMarkdown(join(root, 'test', 'fixtures', 'markdown'));
const $ = cheerio.load(readFileSync(join(root, 'test', 'fixtures', 'help-center-export.html'), 'utf8'));
const fixtureHtml = $('article')
  .toArray()
  .map((el) => {
    const a = $(el);
    return {
      id: a.attr('data-id'),
      locale: a.attr('data-locale'),
      tags: (a.attr('data-tags') ?? '').split(','),
      productAreas: (a.attr('data-product-areas') ?? '').split(','),
      title: a.children('h1').text().trim(),
      words: a.find('.article-body').text().split(/\s+/).filter(Boolean).length,
    };
  });
if (fixtureHtml.length !== 3) fail(`help-center-export.html has ${fixtureHtml.length} articles, expected 3`);
for (const f of fixtureHtml)
  if (!f.id || !f.locale || !f.title || !f.tags[0] || !f.productAreas[0]) fail(`HTML fixture ${f.id}: missing attribute`);
const fixtureIds = [...fixtureHtml, ...fixtureMd].map((f) => f.id);
if (new Set(fixtureIds).size !== fixtureIds.length) fail('duplicate fixture ids');
for (const id of fixtureIds) if (byId.has(id) || seed.some((s) => s.id === id)) fail(`fixture ${id} is not new`);
if (fixtureMd.length !== 2 || !fixtureMd.some((f) => f.status === 'draft')) fail('expected 2 Markdown fixtures, one draft');

// 3. Questions
const lines = readFileSync(join(root, 'eval', 'kb-questions.jsonl'), 'utf8').split('\n').filter(Boolean);
const qIds = new Set();
const texts = new Set();
const kinds = {};
const perArticle = {};
lines.forEach((line, i) => {
  let q;
  try {
    q = JSON.parse(line);
  } catch {
    fail(`line ${i + 1}: invalid JSON`);
    return;
  }
  if (Object.keys(q).join() !== 'id,question,expected,kind') fail(`line ${i + 1}: unexpected keys`);
  if (qIds.has(q.id)) fail(`duplicate question id ${q.id}`);
  qIds.add(q.id);
  if (texts.has(q.question)) fail(`duplicate question text in ${q.id}`);
  texts.add(q.question);
  kinds[q.kind] = (kinds[q.kind] ?? 0) + 1;
  if (q.kind === 'answerable') {
    const a = byId.get(q.expected);
    if (!a) fail(`${q.id}: expected ${q.expected} does not exist`);
    else if (a.status !== 'published' || a.locale !== 'en') fail(`${q.id}: ${q.expected} is not a published English article`);
    perArticle[q.expected] = (perArticle[q.expected] ?? 0) + 1;
  } else if (q.kind === 'unanswerable' || q.kind === 'injection') {
    if (q.expected !== null) fail(`${q.id}: ${q.kind} must have expected null`);
  } else fail(`${q.id}: unknown kind ${q.kind}`);
});
const publishedEn = kb.filter((a) => a.status === 'published' && a.locale === 'en');
for (const a of publishedEn) {
  const n = perArticle[a.id] ?? 0;
  if (n < 3 || n > 6) fail(`${a.id}: ${n} answerable questions (want 3-6)`);
}

const count = (pred) => kb.filter(pred).length;
console.log(
  JSON.stringify(
    {
      articles: kb.length,
      publishedEnglish: publishedEn.length,
      translations: count((a) => a.locale !== 'en'),
      draft: count((a) => a.status === 'draft'),
      retired: count((a) => a.status === 'retired'),
      fixtures: { html: fixtureHtml.map((f) => `${f.id} (${f.words} words)`), markdown: fixtureMd.map((f) => `${f.id} [${f.status}]`) },
      questions: lines.length,
      kinds,
    },
    null,
    2,
  ),
);
if (problems.length) {
  console.error(problems.map((p) => `FAIL ${p}`).join('\n'));
  process.exit(1);
}
console.log('OK');
