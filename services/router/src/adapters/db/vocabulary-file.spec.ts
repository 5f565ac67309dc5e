import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVocabularyFile } from './roster';

describe('the vocabulary file (routing/teams.json)', () => {
  it('ships the skills the AI responder and the escalation policy name, each team covering known ones', async () => {
    const vocabulary = await readVocabularyFile();
    const skills = vocabulary.skills.map((k) => k.name);
    expect(skills).toEqual(
      expect.arrayContaining([
        'general',
        'account',
        'billing',
        'technical',
        'retention',
        'legal',
        'privacy',
        'security',
        'contracts',
        'account_management',
      ]),
    );
    for (const team of vocabulary.teams)
      expect(skills).toEqual(expect.arrayContaining([...team.skills]));
    // Where the escalation policy sends contracts, pricing, procurement and legal terms.
    expect(vocabulary.teams.find((t) => t.name === 'Account Management')?.skills).toEqual(
      expect.arrayContaining(['contracts', 'account_management']),
    );
    expect(vocabulary.teams.find((t) => t.name === 'Legal')?.skills).toContain('legal');
  });

  it('refuses a file whose team covers a skill the file does not list, naming where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vocabulary-'));
    try {
      const file = join(dir, 'teams.json');
      writeFileSync(
        file,
        JSON.stringify({
          skills: [{ name: 'billing' }],
          teams: [{ name: 'Billing', skills: ['billing', 'payroll'] }],
        }),
      );
      await expect(readVocabularyFile(file)).rejects.toThrow(
        /teams\.0\.skills\.1: team Billing covers "payroll", which is not among the file's skills/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
