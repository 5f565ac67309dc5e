import {
  fill,
  LANGUAGES,
  languageOf,
  notice,
  teamText,
  TEMPLATES,
  waitText,
  whenText,
  type Language,
  type Templates,
} from './index';

const KEYS = Object.keys(TEMPLATES.en) as (keyof Templates)[];
const placeholders = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

/** A Monday, 09:00 UTC. */
const MONDAY_9 = new Date('2026-03-02T09:00:00Z');
const MONDAY: Record<Language, string> = {
  en: 'Monday',
  de: 'Montag',
  fr: 'lundi',
  es: 'lunes',
  it: 'lunedì',
  nl: 'maandag',
  pt: 'segunda-feira',
};

/** Realistic values for every placeholder a template may name, in the customer's language. */
const valuesFor = (lang: Language, team = 'Billing') => ({
  team: teamText(team, lang),
  agent: 'Maya Chen',
  position: 3,
  wait: waitText(240, lang),
  when: whenText(MONDAY_9, lang),
  contact: 'ana@example.com',
});

describe('templates', () => {
  it('cover every key in every language, none empty', () => {
    for (const lang of LANGUAGES) {
      expect(Object.keys(TEMPLATES[lang]).sort()).toEqual([...KEYS].sort());
      for (const key of KEYS) expect(TEMPLATES[lang][key].trim()).not.toBe('');
    }
  });

  it('name the same placeholders in every language as in English', () => {
    for (const key of KEYS) {
      const english = placeholders(TEMPLATES.en[key]).sort();
      for (const lang of LANGUAGES)
        expect([lang, key, placeholders(TEMPLATES[lang][key]).sort()]).toEqual([
          lang,
          key,
          english,
        ]);
    }
  });

  it.each(LANGUAGES)('render in %s with no placeholder left for realistic values', (lang) => {
    const values = valuesFor(lang);
    for (const key of KEYS) {
      const text = notice(key, lang, key === 'teamNamed' ? { team: 'Billing' } : values);
      expect([key, text]).toEqual([key, expect.not.stringMatching(/[{}]/)]);
      for (const name of placeholders(TEMPLATES[lang][key])) {
        const value = key === 'teamNamed' ? 'Billing' : String(values[name as keyof typeof values]);
        expect(text).toContain(value);
      }
    }
  });

  it.each(LANGUAGES)('render in %s with "our team" too', (lang) => {
    const values = valuesFor(lang, '');
    for (const key of ['assigned', 'queued', 'offHours'] as const) {
      const text = notice(key, lang, values);
      expect(text).not.toMatch(/[{}]/);
      expect(text).toContain(TEMPLATES[lang].ourTeam);
    }
  });
});

describe('languageOf', () => {
  it('takes the primary subtag of a covered language', () => {
    expect(languageOf('de-AT')).toBe('de');
    expect(languageOf('pt-BR')).toBe('pt');
    expect(languageOf('FR_ch')).toBe('fr');
    expect(languageOf(' nl ')).toBe('nl');
    for (const lang of LANGUAGES) expect(languageOf(lang)).toBe(lang);
  });

  it('falls back to English for anything else', () => {
    expect(languageOf('ja')).toBe('en');
    expect(languageOf('')).toBe('en');
    expect(languageOf('x-klingon')).toBe('en');
    expect(notice('handoff', 'ja')).toBe(TEMPLATES.en.handoff);
  });
});

describe('fill', () => {
  it('fills the named values and leaves an unknown name as it is', () => {
    expect(fill('{a} and {b}, {a} again; {c}', { a: 'x', b: 2 })).toBe('x and 2, x again; {c}');
  });

  it('inserts values literally, even ones that look like placeholders or replacement patterns', () => {
    expect(fill('to {contact}', { contact: '$&{team}$1' })).toBe('to $&{team}$1');
  });
});

describe('waitText', () => {
  it.each([
    [0, 'under a minute', 'weniger als eine Minute'],
    [59, 'under a minute', 'weniger als eine Minute'],
    [60, '1 minute', '1 Minute'],
    [61, '2 minutes', '2 Minuten'],
    [119 * 60, '119 minutes', '119 Minuten'],
    [119 * 60 + 1, '2 hours', '2 Stunden'],
    [2 * 3600, '2 hours', '2 Stunden'],
    [2 * 3600 + 1, '3 hours', '3 Stunden'],
  ])('%i s is "%s" in English and "%s" in German', (seconds, en, de) => {
    expect(waitText(seconds, 'en')).toBe(en);
    expect(waitText(seconds, 'de-DE')).toBe(de);
  });

  it('writes the other languages with their own words', () => {
    expect(waitText(30, 'fr')).toBe("moins d'une minute");
    expect(waitText(240, 'es')).toBe('4 minutos');
    expect(waitText(240, 'nl')).toBe('4 minuten');
    expect(waitText(7200, 'it')).toBe('2 ore');
    expect(waitText(240, 'ja')).toBe('4 minutes');
  });
});

describe('whenText', () => {
  it.each(LANGUAGES)('names the weekday in %s', (lang) => {
    const text = whenText(MONDAY_9, lang);
    expect(text).toContain(MONDAY[lang]);
    expect(text).toContain('09:00');
    expect(text).toContain('UTC');
  });

  it('writes the moment in the given time zone', () => {
    // 23:30 UTC on Monday is already Tuesday in Berlin.
    const text = whenText(new Date('2026-03-02T23:30:00Z'), 'de', 'Europe/Berlin');
    expect(text).toContain('Dienstag');
    expect(text).toContain('00:30');
  });
});

describe('teamText', () => {
  const named: Record<Language, string> = {
    en: 'the Billing team',
    de: 'dem Team Billing',
    fr: "l'équipe Billing",
    es: 'nuestro equipo de Billing',
    it: 'team Billing',
    nl: 'het Billing-team',
    pt: 'nossa equipa de Billing',
  };
  const ours: Record<Language, string> = {
    en: 'our team',
    de: 'unserem Team',
    fr: 'notre équipe',
    es: 'nuestro equipo',
    it: 'nostro team',
    nl: 'ons team',
    pt: 'nossa equipa',
  };

  it.each(LANGUAGES)('names the team, or says "our team", in %s', (lang) => {
    expect(teamText('Billing', lang)).toBe(named[lang]);
    expect(teamText('  Billing ', lang)).toBe(named[lang]);
    expect(teamText('', lang)).toBe(ours[lang]);
    expect(teamText('   ', lang)).toBe(ours[lang]);
  });
});

describe('the queued sentence reads with the team phrase inserted', () => {
  const queued = (lang: string, team: string) =>
    notice('queued', lang, {
      team: teamText(team, lang),
      position: 3,
      wait: waitText(240, lang),
    });

  it('in German', () => {
    expect(queued('de', 'Billing')).toBe(
      'Eine Person aus dem Team Billing meldet sich bei Ihnen. Sie sind Nummer 3 in der Warteschlange, die geschätzte Wartezeit beträgt 4 Minuten. Alles, was Sie bisher geschrieben haben, liegt ihr vor.',
    );
    expect(queued('de', '')).toMatch(/^Eine Person aus unserem Team meldet sich bei Ihnen\./);
  });

  it('in Spanish', () => {
    expect(queued('es', 'Billing')).toBe(
      'Una persona de nuestro equipo de Billing le atenderá. Es el número 3 en la cola y la espera estimada es de 4 minutos. Todo lo que ha escrito se le ha compartido.',
    );
    expect(queued('es', '')).toMatch(/^Una persona de nuestro equipo le atenderá\./);
  });

  it('in Italian, Portuguese, French, Dutch and English', () => {
    expect(queued('it', 'Billing')).toMatch(/^Una persona del team Billing la contatterà\./);
    expect(queued('it', '')).toMatch(/^Una persona del nostro team la contatterà\./);
    expect(queued('pt', 'Billing')).toMatch(
      /^Uma pessoa da nossa equipa de Billing vai atendê-lo\./,
    );
    expect(queued('pt', '')).toMatch(/^Uma pessoa da nossa equipa vai atendê-lo\./);
    expect(queued('fr', 'Billing')).toMatch(/^Une personne de l'équipe Billing va vous répondre\./);
    expect(queued('fr', '')).toMatch(/^Une personne de notre équipe va vous répondre\./);
    expect(queued('nl', 'Billing')).toMatch(/^Iemand van het Billing-team helpt u verder\./);
    expect(queued('en', 'Billing')).toMatch(/^A person from the Billing team will join you\./);
    expect(queued('en', '')).toMatch(/^A person from our team will join you\./);
  });

  it('and so do the agent-joined and off-hours sentences', () => {
    expect(notice('assigned', 'de', { agent: 'Maya', team: teamText('Billing', 'de') })).toBe(
      'Maya aus dem Team Billing ist dem Gespräch beigetreten und sieht alles Bisherige.',
    );
    expect(
      notice('offHours', 'it', { team: teamText('Billing', 'it'), when: whenText(MONDAY_9, 'it') }),
    ).toContain('Qualcuno del team Billing risponderà a partire da lunedì');
  });
});

describe('the CSAT request', () => {
  it.each(LANGUAGES)('names both ends of the 1 to 5 scale in %s', (lang) => {
    const text = notice('csatRequest', lang);
    expect(text).toMatch(/\b1\b/);
    expect(text).toMatch(/\b5\b/);
    expect(text).not.toBe(lang === 'en' ? '' : TEMPLATES.en.csatRequest);
  });
});
