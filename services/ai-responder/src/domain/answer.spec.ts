import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bestExcerpt,
  citationOf,
  coverage,
  extractiveAnswer,
  grounding,
  retrievalEvidence,
  units,
  type RankedArticle,
} from './answer';
import { parseImport } from './kb/import';
import { contentStems } from '@support/text';

const remindersBody = parseImport(
  'markdown',
  readFileSync(
    join(__dirname, '../../test/fixtures/markdown/customer-invoice-reminders.md'),
    'utf8',
  ),
  { status: 'published', locale: 'en' },
).articles[0].body;

const RESET_PASSAGE = `## Request a reset link

1. Open the Ledgerly sign-in page and click **Forgot password**.
2. Enter the email address of your Ledgerly account.
3. Open the email we send you. The password reset link arrives within a few minutes.
4. Click the link and choose your new password.

The reset link is valid for **60 minutes** and can be used **once**.`;

function ranked(over: Partial<RankedArticle> & { id: string }): RankedArticle {
  return {
    title: 'Resetting your Ledgerly password',
    body: `Forgot your password? ${RESET_PASSAGE}`,
    tags: ['password_reset'],
    productAreas: ['account'],
    version: 1,
    score: 10,
    passage: { id: `${over.id}#1`, heading: 'Request a reset link', text: RESET_PASSAGE },
    ...over,
  };
}

const excerpt = (question: string, passage: string, max?: number) =>
  bestExcerpt(contentStems(question), passage, max);

describe('units', () => {
  it('given headings, items, rows and prose, when split, then each gets its kind and plain text', () => {
    expect(
      units(
        '## Plans and **prices**\n\nPick a plan. Then pay.\n\n- Monthly **billing**\n2) Second step\n\n| Plan | Price | Seats |\n|---|:---:|---|\n| Basic | 10 | 3 |\n| Pro | 30 | [10](x) |',
      ),
    ).toEqual([
      { kind: 'heading', text: 'Plans and prices:' },
      { kind: 'prose', text: 'Pick a plan.' },
      { kind: 'prose', text: 'Then pay.' },
      { kind: 'item', text: '- Monthly billing' },
      { kind: 'item', text: '2) Second step' },
      { kind: 'row', text: 'Basic; Price: 10; Seats: 3' },
      { kind: 'row', text: 'Pro; Price: 30; Seats: 10' },
    ]);
  });

  it('given two tables apart, when split, then each row is labelled by its own header', () => {
    expect(units('| A | B |\n|---|---|\n| 1 | 2 |\n\n| C | D |\n|---|---|\n| 3 | 4 |')).toEqual([
      { kind: 'row', text: '1; B: 2' },
      { kind: 'row', text: '3; D: 4' },
    ]);
  });

  it('given "*" and "+" bullets, when split, then they read as "- " items', () => {
    expect(units('* one\n+ two').map((u) => u.text)).toEqual(['- one', '- two']);
  });

  it('given an empty passage, when split, then there are no units', () => {
    expect(units('\n\n  \n')).toEqual([]);
  });
});

describe('bestExcerpt', () => {
  it('given a question a sentence answers, when excerpted, then that sentence leads and its continuation follows', () => {
    const passage =
      'Ledgerly keeps your data safe. Exports run nightly at 2 am. Each export is a ZIP file. Unrelated closing words here.';
    expect(excerpt('when do exports run', passage)).toEqual([
      'Exports run nightly at 2 am.',
      'Each export is a ZIP file.',
    ]);
  });

  it('given neighbours that share words, when excerpted, then they widen it up to the maximum', () => {
    const passage =
      'Intro about nothing. Open the invoice list. Click Download PDF on the invoice. Invoices are kept forever. Unrelated closing words.';
    expect(excerpt('download invoice pdf', passage)).toEqual([
      'Open the invoice list.',
      'Click Download PDF on the invoice.',
      'Invoices are kept forever.',
    ]);
    expect(excerpt('download invoice pdf', passage, 2)).toHaveLength(2);
  });

  it('given a heading that matches the question best, when excerpted, then the heading is never the answer', () => {
    const passage = '## Reset your password\n\nOpen the sign-in page. Click the link we send.';
    const out = excerpt('reset password', passage);
    expect(out[0]).not.toBe('Reset your password:');
    expect(out).toEqual(['Open the sign-in page.', 'Click the link we send.']);
  });

  it('given a signpost sentence that matches best, when excerpted, then it is skipped', () => {
    const passage =
      'This article explains how reminders work and when reminders are sent. Reminders are sent daily at 9 am. They stop once paid.';
    const out = excerpt('when are reminders sent', passage);
    expect(out.join(' ')).not.toMatch(/This article explains/);
    expect(out[0]).toBe('Reminders are sent daily at 9 am.');
  });

  it.each([
    ['The following section lists reminders.'],
    ['In this guide reminders are covered.'],
    ['This page is about reminders.'],
  ])('given the signpost %j, when excerpted, then it is skipped', (signpost) => {
    const out = excerpt('reminders', `${signpost} Reminders go out daily.`);
    expect(out[0]).toBe('Reminders go out daily.');
  });

  it('given a signpost first and no overlap at all, when excerpted, then the first real sentence is taken', () => {
    expect(excerpt('zebra', 'This article explains reminders. Reminders go out daily.')).toEqual([
      'Reminders go out daily.',
    ]);
  });

  it('given a tie, when excerpted, then the earliest unit wins', () => {
    const out = excerpt('refund', 'A refund takes days. Filler text here. Another refund note.');
    expect(out[0]).toBe('A refund takes days.');
  });

  it('given a question about a step, when excerpted, then the numbered procedure is kept whole and introduced by its heading', () => {
    const out = excerpt('how do I turn on automatic reminders', remindersBody);
    expect(out).toEqual([
      'Turn on reminders:',
      '1. As the owner, an admin or an accountant, go to Settings → Invoicing → Reminders.',
      '2. Switch on Automatic reminders.',
      '3. Choose when reminders are sent. The default schedule is:',
      'Friendly heads-up; When: 3 days before the due date',
      'First reminder; When: 1 day after the due date',
      'Second reminder; When: 7 days after the due date',
      'Final reminder; When: 14 days after the due date',
      '4. Click Save.',
    ]);
  });

  it('given the reset steps, when asked about one of them, then all four steps come with their heading', () => {
    const out = excerpt('where do I enter my email address', RESET_PASSAGE);
    expect(out.slice(0, 5)).toEqual([
      'Request a reset link:',
      '1. Open the Ledgerly sign-in page and click Forgot password.',
      '2. Enter the email address of your Ledgerly account.',
      '3. Open the email we send you. The password reset link arrives within a few minutes.',
      '4. Click the link and choose your new password.',
    ]);
  });

  it('given a table, when asked about a row, then rows read "header: value" under their heading', () => {
    const passage =
      '## Plans\n\n| Plan | Price | Seats |\n|---|---|---|\n| Basic | 10 | 3 |\n| Pro | 30 | 10 |';
    expect(excerpt('pro plan price', passage)).toEqual([
      'Plans:',
      'Basic; Price: 10; Seats: 3',
      'Pro; Price: 30; Seats: 10',
    ]);
  });

  it('given a long list, when excerpted, then at most nine entries are kept', () => {
    const passage = Array.from({ length: 15 }, (_, i) => `${i + 1}. Step ${i + 1} of setup`).join(
      '\n',
    );
    const out = excerpt('setup step', passage);
    expect(out.length).toBeLessThanOrEqual(9);
    expect(out[0]).toBe('1. Step 1 of setup');
  });

  it('given a match in another section, when excerpted, then it does not reach across the heading', () => {
    const passage =
      '## Fees\n\nCards cost 5 euros per month.\n\n## Limits\n\nEach card has a monthly spending limit.';
    const out = excerpt('card monthly limit', passage);
    expect(out).toContain('Each card has a monthly spending limit.');
    expect(out).not.toContain('Cards cost 5 euros per month.');
  });

  it('given a passage of headings only, when excerpted, then the headings are all there is', () => {
    expect(excerpt('anything', '## Only a heading')).toEqual(['Only a heading:']);
  });
});

describe('extractiveAnswer', () => {
  it('given the best article, when answered, then the excerpt is cited with passage id and article version and ends with the source', () => {
    const best = ranked({ id: 'reset-password', version: 7, score: 8.25 });
    const { text, citation } = extractiveAnswer('How do I reset my password?', best);

    expect(text).toMatch(/\n\n\(Source: Resetting your Ledgerly password\)$/);
    expect(text).toContain('1. Open the Ledgerly sign-in page and click Forgot password.');
    expect(text).not.toContain('**');
    expect(citation).toMatchObject({
      articleId: 'reset-password',
      title: 'Resetting your Ledgerly password',
      passageId: 'reset-password#1',
      articleVersion: 7,
    });
    expect(text.startsWith(citation.snippet)).toBe(true);
  });
});

describe('citationOf', () => {
  it('given an article, when cited, then the snippet, passage and version are carried', () => {
    const c = citationOf(ranked({ id: 'a', version: 3, score: 0.1234 }), 'snippet');
    expect(c).toEqual({
      articleId: 'a',
      title: 'Resetting your Ledgerly password',
      snippet: 'snippet',
      score: 0.123,
      passageId: 'a#1',
      articleVersion: 3,
    });
  });
});

describe('grounding', () => {
  const source =
    'The reset link is valid for 60 minutes and can be used once. Request a new link if it expired.';

  it('given an answer its source says, when grounded, then it is fully supported', () => {
    expect(grounding('The reset link is valid for 60 minutes.', [source])).toBe(1);
  });

  it('given an answer about something else, when grounded, then nothing supports it', () => {
    expect(grounding('Our office dog likes sausages on sunny afternoons.', [source])).toBe(0);
  });

  it('given one supported and one unsupported sentence, when grounded, then it is the mean', () => {
    expect(
      grounding('The reset link is valid for 60 minutes. Our office dog likes sausages.', [source]),
    ).toBe(0.5);
  });

  it('given a number the source does not contain, when grounded, then the support is halved', () => {
    const supported = grounding('The reset link is valid for 60 minutes.', [source]);
    const invented = grounding('The reset link is valid for 90 minutes.', [source]);
    // "90" itself is one unsupported word out of five (0.8), halved for the invented number.
    expect(invented).toBe(0.4);
    expect(invented).toBeLessThan(supported / 2 + 0.001);
  });

  it('given several sources, when grounded, then words from any of them count', () => {
    expect(
      grounding('Request a new link. Invoices are kept forever.', [
        source,
        'Invoices are kept forever.',
      ]),
    ).toBe(1);
  });

  it('given word forms, when grounded, then they meet through stemming', () => {
    expect(grounding('Links expire.', ['The link expired.'])).toBe(1);
  });

  it('given no content words, when grounded, then it is 0', () => {
    expect(grounding('', [source])).toBe(0);
    expect(grounding('Okay, thanks!', [source])).toBe(0);
  });
});

describe('coverage', () => {
  it('counts the share of question stems found in title, tags or body', () => {
    const a = ranked({ id: 'a', title: 'Passwords', tags: ['sso'], body: 'Reset link.' });
    expect(coverage(contentStems('password sso reset weather'), a)).toBe(1 - 1 / 4);
    expect(coverage(new Set(), a)).toBe(0);
  });
});

describe('retrievalEvidence', () => {
  const q = 'reset password link';

  it('given nothing ranked, when weighed, then all evidence is 0', () => {
    expect(retrievalEvidence(q, [])).toEqual({
      retrieval: 0,
      margin: 0,
      coverage: 0,
      agreement: 0,
    });
  });

  it('given one article, when weighed, then the margin is full and retrieval is score/(score+10)', () => {
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 10 })])).toEqual({
      retrieval: 0.5,
      margin: 1,
      coverage: 1,
      // Without hybrid retrieval nobody knows whether the meaning ranking would agree.
      agreement: 0.5,
    });
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 30 })]).retrieval).toBe(0.75);
  });

  it('given hybrid retrieval, then agreement is 1 only when both rankings put the best article first', () => {
    const both = ranked({ id: 'a', score: 10, ranks: { words: 0, meaning: 0 } });
    expect(retrievalEvidence(q, [both]).agreement).toBe(1);
    const wordsOnly = ranked({ id: 'a', score: 10, ranks: { words: 0, meaning: 2 } });
    expect(retrievalEvidence(q, [wordsOnly]).agreement).toBe(0);
    const meaningOnly = ranked({ id: 'a', score: 0, ranks: { words: -1, meaning: 0 } });
    expect(retrievalEvidence(q, [meaningOnly]).agreement).toBe(0);
  });

  it('given the customer’s page told two equal articles apart, then the margin counts the boost, the strength does not', () => {
    const onPage = ranked({ id: 'a', score: 10, pageBoost: 1.5 });
    const evidence = retrievalEvidence(q, [onPage, ranked({ id: 'b', score: 10 })]);
    expect(evidence.margin).toBeCloseTo(1 / 3, 2);
    expect(evidence.retrieval).toBe(0.5);
  });

  it('given a runner-up, when weighed, then the margin is the relative lead', () => {
    expect(
      retrievalEvidence(q, [ranked({ id: 'a', score: 10 }), ranked({ id: 'b', score: 4 })]).margin,
    ).toBe(0.6);
    expect(
      retrievalEvidence(q, [ranked({ id: 'a', score: 10 }), ranked({ id: 'b', score: 10 })]).margin,
    ).toBe(0);
  });

  it('grows with the score and the lead', () => {
    const weak = retrievalEvidence(q, [
      ranked({ id: 'a', score: 3 }),
      ranked({ id: 'b', score: 2 }),
    ]);
    const strong = retrievalEvidence(q, [
      ranked({ id: 'a', score: 20 }),
      ranked({ id: 'b', score: 2 }),
    ]);
    expect(strong.retrieval).toBeGreaterThan(weak.retrieval);
    expect(strong.margin).toBeGreaterThan(weak.margin);
    expect(strong.retrieval).toBeLessThan(1);
  });

  it('given a question the article only partly covers, when weighed, then coverage is the share found', () => {
    const e = retrievalEvidence('reset password payroll taxes', [ranked({ id: 'a' })]);
    expect(e.coverage).toBe(0.5);
    expect(retrievalEvidence('Hi, thanks!', [ranked({ id: 'a' })]).coverage).toBe(0);
  });

  it('given a vector-only match, when weighed, then retrieval comes from the similarity above 0.3', () => {
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 0, similarity: 1 })])).toMatchObject({
      retrieval: 1,
      margin: 1,
    });
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 0, similarity: 0.65 })]).retrieval).toBe(
      0.5,
    );
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 0, similarity: 0.2 })]).retrieval).toBe(
      0,
    );
    expect(retrievalEvidence(q, [ranked({ id: 'a', score: 0 })]).retrieval).toBe(0);
  });
});
