import {
  AccountSchema,
  create,
  Priority,
  type Account,
  type MessageInitShape,
} from '@support/contracts';
import { initialState, type ConversationState, type MessageView } from '@support/conversation';
import { decide, loadDefaultPolicy, unhelpfulTurns } from './decide';

import { detectHumanRequest } from './human-request';
import { buildBriefing } from './briefing';
import { NO_CONTEXT, type DecisionContext } from './context';

const defaultPolicy = loadDefaultPolicy();

function stateWith(
  message: Partial<MessageView>,
  extra: Partial<ConversationState> = {},
): ConversationState {
  return {
    ...initialState('c1'),
    status: 'ai_handling',
    locale: 'en',
    messages: [{ messageId: 'm1', text: 'How do I download my invoices?', at: 't1', ...message }],
    transcript: [
      { speaker: 'customer', text: message.text ?? 'How do I download my invoices?', at: 't1' },
    ],
    ...extra,
  };
}
const proposal = (
  confidence: number,
  intent = 'invoices',
  more: Partial<NonNullable<MessageView['proposal']>> = {},
): NonNullable<MessageView['proposal']> => ({
  replyId: 'r1',
  text: 'Go to Billing',
  confidence,
  intent,
  intentProbability: 0.9,
  topic: 'billing',
  outOfScope: false,
  urgency: 0,
  requiredSkills: [],
  kind: 'answer',
  missingDetails: [],
  generator: 'extractive',
  flags: [],
  citations: [],
  articlesTried: ['kb-invoices'],
  at: 't2',
  ...more,
});
const score = (valence: number, signals: string[] = []) => ({
  valence,
  label: valence < 0 ? 'negative' : 'neutral',
  signals,
  at: 't2',
});

describe('escalation decider', () => {
  it('given a confident proposal and a calm customer, releases the reply', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.95), score: score(0.1) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d).toEqual({ kind: 'release', missing: [] });
  });

  it("given an answer below the review band, withholds it and hands off naming the band's floor", async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.5), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers[0]).toEqual(
      expect.objectContaining({
        rule: 'low_confidence',
        value: 0.5,
        threshold: defaultPolicy.threshold('reviewMinConfidence', NaN),
      }),
    );
  });

  it('given a request for details with a trusted intent, releases it though it is no grounded answer', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.7, 'billing', { kind: 'intake' }), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d).toEqual({ kind: 'release', missing: [] });
    const unsure = await decide(
      stateWith({ proposal: proposal(0.3, 'billing', { kind: 'intake' }), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(unsure.kind === 'handoff' && unsure.triggers[0].threshold).toBe(0.5);
  });

  it('given the AI has nothing grounded to say, hands off with the no_answer rule', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0, 'billing', { kind: 'no_answer' }), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers.map((t) => t.rule)).toEqual(['no_answer']);
  });

  it('given a conversation whose sentiment turned, hands off naming the shift against its threshold', async () => {
    const d = await decide(
      stateWith({
        proposal: proposal(0.95),
        score: {
          ...score(-0.6),
          signals: ['sentiment_shift'],
          trajectory: {
            smoothed: -0.45,
            start: 0.3,
            change: -0.75,
            turnedAtMessageId: 'm1',
            shift: true,
            messages: 3,
          },
        },
      }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers).toEqual([
      expect.objectContaining({ rule: 'sentiment_shift', value: -0.75, threshold: -0.4 }),
    ]);
  });

  it('given the customer asks again what the AI answered, hands off as a repeated question', async () => {
    const earlier = {
      messageId: 'm0',
      text: 'How do I export my report to PDF?',
      at: 't0',
      decision: { kind: 'released' as const, at: 't0' },
    };
    const s = stateWith({
      proposal: proposal(0.95),
      score: {
        ...score(0),
        signals: ['repetition'],
        repeats: { messageId: 'm0', similarity: 0.8 },
      },
    });
    const d = await decide(
      { ...s, messages: [earlier, ...s.messages] },
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers).toEqual([
      expect.objectContaining({ rule: 'repeated_question', value: 0.8, threshold: 0.6 }),
    ]);
    // A repeat of a question a person handled, or that was never answered, is no failure of the AI.
    const unanswered = await decide(
      { ...s, messages: [{ ...earlier, decision: undefined }, ...s.messages] },
      'm1',
      defaultPolicy,
      false,
    );
    expect(unanswered.kind).toBe('release');
  });

  it('takes the skills and the urgency the responder tagged', async () => {
    const d = await decide(
      stateWith({
        proposal: proposal(0, 'security', {
          kind: 'no_answer',
          requiredSkills: ['security'],
          urgency: Priority.URGENT,
        }),
        score: score(0),
      }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d).toEqual(
      expect.objectContaining({ requiredSkills: ['security'], priority: Priority.URGENT }),
    );
  });

  it('waits for the missing input until the join times out, then decides on what it has and says so', async () => {
    const s = stateWith({ proposal: proposal(0.95) });
    expect(await decide(s, 'm1', defaultPolicy, false)).toEqual({ kind: 'wait' });
    expect(await decide(s, 'm1', defaultPolicy, true)).toEqual({
      kind: 'release',
      missing: ['sentiment'],
    });
  });

  it('hands off on an explicit request for a person after a short wait for its proposal, not the join', async () => {
    const s = stateWith({ text: 'I want to talk to a human' });
    // The proposal says what the handoff is about: the decider waits for it, briefly.
    expect(await decide(s, 'm1', defaultPolicy, false)).toEqual({ kind: 'wait', forMs: 1500 });
    expect(defaultPolicy.topicWaitMs).toBeLessThan(defaultPolicy.joinTimeoutMs);
    const d = await decide(s, 'm1', defaultPolicy, true);
    expect(d.kind).toBe('handoff');
    if (d.kind !== 'handoff') return;
    expect(d.triggers.map((t) => t.rule)).toEqual(['explicit_human_request']);
    expect(d.missing).toEqual(['ai_proposal', 'sentiment']);
  });

  it('routes an explicit request to a person who speaks the language it was written in, whatever the widget locale', async () => {
    // stateWith sets the locale "en"; the customer writes German.
    const d = await decide(
      stateWith({ text: 'Ich möchte mit einem Mitarbeiter sprechen' }),
      'm1',
      defaultPolicy,
      true,
    );
    expect(d.kind === 'handoff' && d.language).toBe('de');
  });

  it('says which layer heard the request: the lexicon, with the words and their language', async () => {
    const d = await decide(
      stateWith({ text: 'Je veux parler à un conseiller' }),
      'm1',
      defaultPolicy,
      // The short wait for the request's proposal ran out.
      true,
    );
    expect(d.kind === 'handoff' && d.triggers[0]).toEqual({
      rule: 'explicit_human_request',
      detail: 'customer asked for a person (lexicon, fr): "parler à un conseiller"',
      value: 1,
      threshold: 1,
    });
  });

  it("takes the detector from its context: a request only the classifier hears hands off at once, with the classifier's probability", async () => {
    const text = 'could a member of your staff sort this out';
    const context: DecisionContext = {
      ...NO_CONTEXT,
      detectHumanRequest: async (t) =>
        t === text
          ? { language: 'en', phrase: t, layer: 'classifier', probability: 0.912, threshold: 0.66 }
          : undefined,
    };
    // Heard as a request: it waits only the short topicWaitMs for its proposal, then hands off.
    expect(await decide(stateWith({ text }), 'm1', defaultPolicy, false, context)).toEqual({
      kind: 'wait',
      forMs: 1500,
    });
    const d = await decide(stateWith({ text }), 'm1', defaultPolicy, true, context);
    expect(d.kind === 'handoff' && { triggers: d.triggers, missing: d.missing }).toEqual({
      triggers: [
        {
          rule: 'explicit_human_request',
          detail: `customer asked for a person (classifier, p=0.912 ≥ 0.66): "${text}"`,
          value: 0.912,
          threshold: 0.66,
        },
      ],
      missing: ['ai_proposal', 'sentiment'],
    });
    // Without that detector (the lexicon layers alone) the same words wait for the AI.
    expect(await decide(stateWith({ text }), 'm1', defaultPolicy, false)).toEqual({
      kind: 'wait',
    });
  });

  it('does not hand off a customer who says they need no person: the AI answers', async () => {
    const text = "I don't need a person, just tell me how to download my invoices";
    const s = stateWith({ text });
    expect(await decide(s, 'm1', defaultPolicy, false)).toEqual({ kind: 'wait' });
    const answered = stateWith({ text, proposal: proposal(0.95), score: score(0.1) });
    expect(await decide(answered, 'm1', defaultPolicy, false)).toEqual({
      kind: 'release',
      missing: [],
    });
  });

  it('hands off when the AI is unsure, naming the value and the threshold', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.2), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers[0]).toEqual(
      expect.objectContaining({
        rule: 'low_confidence',
        value: 0.2,
        threshold: defaultPolicy.threshold('reviewMinConfidence', NaN),
      }),
    );
  });

  it('hands off a frustrated customer with high priority, urgent ones first', async () => {
    const frustrated = await decide(
      stateWith({ proposal: proposal(0.9), score: score(-0.8, ['frustration']) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(frustrated.kind === 'handoff' && frustrated.priority).toBe(Priority.HIGH);
    const urgent = await decide(
      stateWith({ proposal: proposal(0.9), score: score(-0.8, ['frustration', 'urgency']) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(urgent.kind === 'handoff' && urgent.priority).toBe(Priority.URGENT);
  });

  it('hands off when the AI gave no answer in time', async () => {
    const d = await decide(stateWith({ score: score(0) }), 'm1', defaultPolicy, true);
    expect(d.kind === 'handoff' && d.triggers[0].rule).toBe('ai_unavailable');
  });

  describe('given the wait for the AI ran out', () => {
    const timedOut = (aiResponder: NonNullable<DecisionContext['aiResponder']>) =>
      decide(stateWith({ score: score(0) }), 'm1', defaultPolicy, true, {
        ...NO_CONTEXT,
        aiResponder,
      });
    const budget = defaultPolicy.aiOutageWaitMs;

    it('waits on while the AI responder has not read as far as the message, one join timeout at a time', async () => {
      expect(budget).toBeGreaterThan(defaultPolicy.joinTimeoutMs);
      expect(await timedOut({ position: 'behind', waitedMs: 8_000 })).toEqual({
        kind: 'wait',
        forMs: defaultPolicy.joinTimeoutMs,
      });
      expect(await timedOut({ position: 'behind', waitedMs: budget - 1_000 })).toEqual({
        kind: 'wait',
        forMs: 1_000,
      });
    });

    it('hands off once the outage budget is spent, or when the responder read the message and gave nothing', async () => {
      const spent = await timedOut({ position: 'behind', waitedMs: budget });
      expect(spent.kind === 'handoff' && spent.triggers[0].rule).toBe('ai_unavailable');
      const lost = await timedOut({ position: 'past', waitedMs: 8_000 });
      expect(lost.kind === 'handoff' && lost.triggers[0].rule).toBe('ai_unavailable');
    });

    it('never holds back an explicit request for a person', async () => {
      const d = await decide(
        stateWith({ score: score(0), text: 'Please get me a human now' }),
        'm1',
        defaultPolicy,
        true,
        { ...NO_CONTEXT, aiResponder: { position: 'behind', waitedMs: 8_000 } },
      );
      expect(d.kind === 'handoff' && d.triggers[0].rule).toBe('explicit_human_request');
    });
  });

  it('stays quiet once a person has the conversation, and decides each message once', async () => {
    expect(
      (
        await decide(
          stateWith({ proposal: proposal(0.9), score: score(0) }, { status: 'with_human' }),
          'm1',
          defaultPolicy,
          false,
        )
      ).kind,
    ).toBe('none');
    expect(
      (
        await decide(
          stateWith({
            proposal: proposal(0.9),
            score: score(0),
            decision: { kind: 'released', at: 't' },
          }),
          'm1',
          defaultPolicy,
          false,
        )
      ).kind,
    ).toBe('none');
  });

  it('routes by intent to the required skill', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.1, 'billing'), score: score(0) }),
      'm1',
      defaultPolicy,
      false,
    );
    expect(d.kind === 'handoff' && d.requiredSkills).toEqual(['billing']);
  });
});

describe('explicit human request', () => {
  it.each([
    'I want to talk to a human',
    'can I speak with a real person please',
    'agent please',
    'Human!',
    'Ich möchte mit einem Mitarbeiter sprechen',
    'Je veux parler à un conseiller',
    'Quiero hablar con una persona',
    'Vorrei parlare con un operatore',
    'Ik wil met een medewerker spreken',
    'Quero falar com um atendente',
  ])('recognises "%s"', (text) => {
    expect(detectHumanRequest(text)).toBeDefined();
  });

  it.each([
    'How do I reset my password?',
    'The agent field in the API is empty',
    'Where can I download invoices?',
  ])('does not fire on "%s"', (text) => {
    expect(detectHumanRequest(text)).toBeUndefined();
  });
});

describe('unhelpfulTurns', () => {
  const msg = (id: string, text: string, released = false) => ({
    messageId: id,
    text,
    at: id,
    ...(released ? { decision: { kind: 'released' as const, at: id } } : {}),
  });

  it('counts the messages that tell the AI its answer did not help, after an answer only', () => {
    const state = {
      ...initialState('c'),
      messages: [
        msg('1', 'still not working before any answer'),
        msg('2', 'How do I export?', true),
        msg('3', "That didn't help at all", true),
        msg('4', 'Still not working.'),
        msg('5', 'ok thanks'),
      ],
    };
    expect(unhelpfulTurns(state, state.messages[3])).toBe(2);
    expect(unhelpfulTurns(state, state.messages[2])).toBe(1);
    expect(unhelpfulTurns(state, state.messages[4])).toBe(2);
  });

  it('hears it in other languages', () => {
    const state = {
      ...initialState('c'),
      messages: [msg('1', 'Wie exportiere ich?', true), msg('2', 'Das hat nicht geholfen.')],
    };
    expect(unhelpfulTurns(state, state.messages[1])).toBe(1);
  });
});

describe('briefing', () => {
  const handoff = {
    kind: 'handoff' as const,
    triggers: [
      {
        rule: 'low_confidence',
        detail: 'the AI answer is below the calibrated confidence (confidence 0.3 lessThan 0.8)',
        value: 0.3,
        threshold: 0.8,
      },
    ],
    priorityReasons: [],
    priority: Priority.NORMAL,
    requiredSkills: ['billing'],
    language: 'en',
    missing: [],
  };
  const brief = (s: ConversationState) =>
    buildBriefing(s, 'm1', handoff, NO_CONTEXT, defaultPolicy);
  it('summarises the conversation and carries what the AI tried', () => {
    const s = stateWith({ proposal: proposal(0.3), score: score(-0.2) });
    const b = brief({
      ...s,
      customerId: 'cust-9',
      channel: 'web',
      transcript: [...s.transcript, { speaker: 'ai', text: 'Go to Billing', at: 't3' }],
    });
    expect(b.summary).toContain('How do I download my invoices?');
    expect(b.aiAttempts).toEqual(['Go to Billing']);
    expect(b.articlesTried).toEqual(['kb-invoices']);
    expect(b.sentimentTrajectory).toEqual([-0.2]);
    expect(b.customerId).toBe('cust-9');
  });

  it('carries the details the AI collected and what is still missing, so nobody asks again', () => {
    const s = stateWith(
      {
        proposal: proposal(0.2, 'billing', {
          missingDetails: ['invoice_or_order_number'],
          topic: 'billing',
        }),
      },
      { details: [{ name: 'account_email', value: 'ana@example.com', messageId: 'm1' }] },
    );
    const b = brief(s);
    expect(b.collectedDetails).toEqual([
      { name: 'account_email', value: 'ana@example.com', messageId: 'm1' },
    ]);
    expect(b.missingDetails).toEqual(['invoice_or_order_number']);
    expect(b.topic).toBe('billing');
    expect(b.summary).toContain('account_email ana@example.com');
  });
});

describe('deciding with the account and the page', () => {
  const account = (over: MessageInitShape<typeof AccountSchema> = {}): Account =>
    create(AccountSchema, {
      accountId: 'acc-7',
      name: 'Acme GmbH',
      tier: 'business',
      currency: 'EUR',
      ...over,
    });
  const withAccount = (a: Account, pageUrl = ''): DecisionContext => ({
    account: a,
    accountLookup: 'found',
    pageUrl,
  });
  const onPage = (pageUrl: string): DecisionContext => ({ accountLookup: 'none', pageUrl });
  const rules = (d: Awaited<ReturnType<typeof decide>>) =>
    d.kind === 'handoff' ? d.triggers.map((t) => t.rule) : [];
  const confident = () => stateWith({ proposal: proposal(0.9), score: score(0.1) });

  it('given a confident answer for a VIP account, hands off with high priority instead of releasing', async () => {
    const d = await decide(
      confident(),
      'm1',
      defaultPolicy,
      false,
      withAccount(account({ vip: true })),
    );
    expect(d.kind).toBe('handoff');
    if (d.kind !== 'handoff') return;
    expect(d.triggers).toEqual([
      expect.objectContaining({ rule: 'vip_account', value: 0.9, threshold: 0.94 }),
    ]);
    expect(d.priorityReasons.map((r) => r.rule)).toEqual(['vip_priority']);
    expect(d.priority).toBe(Priority.HIGH);
  });

  it('given the same answer for an ordinary account, releases it', async () => {
    const d = await decide(confident(), 'm1', defaultPolicy, false, withAccount(account()));
    expect(d).toEqual({ kind: 'release', missing: [] });
  });

  it('given a VIP account and an all but certain answer, releases it: priority rules alone never hand off', async () => {
    const d = await decide(
      stateWith({ proposal: proposal(0.98), score: score(0.1) }),
      'm1',
      defaultPolicy,
      false,
      withAccount(account({ vip: true, slaFirstResponseMinutes: 30 })),
    );
    expect(d).toEqual({ kind: 'release', missing: [] });
  });

  it('given a disputed charge of €1,250, hands off to billing first whatever the intent', async () => {
    const d = await decide(
      stateWith({
        text: 'You charged me twice, €1,250 in total. I dispute this!',
        proposal: proposal(0.95, 'bug_report', { requiredSkills: ['technical'] }),
        score: score(-0.3),
      }),
      'm1',
      defaultPolicy,
      false,
      withAccount(account()),
    );
    expect(d.kind).toBe('handoff');
    if (d.kind !== 'handoff') return;
    expect(d.triggers).toEqual([
      expect.objectContaining({ rule: 'billing_dispute', value: 1250, threshold: 500 }),
    ]);
    expect(d.requiredSkills).toEqual(['billing', 'technical']);
    expect(d.priority).toBe(Priority.HIGH);
  });

  it('given a small disputed charge, leaves the confident answer to the AI', async () => {
    const d = await decide(
      stateWith({
        text: 'You charged me twice, €12. Refund please.',
        proposal: proposal(0.95),
        score: score(0),
      }),
      'm1',
      defaultPolicy,
      false,
      withAccount(account()),
    );
    expect(d.kind).toBe('release');
  });

  it('given an explicit request for a person on an SLA account, hands off without its proposal, the SLA only raising the priority', async () => {
    const sla = withAccount(account({ sla: 'premium', slaFirstResponseMinutes: 30 }));
    const d = await decide(
      stateWith({ text: 'I want to talk to a human' }),
      'm1',
      defaultPolicy,
      true,
      sla,
    );
    expect(d.kind).toBe('handoff');
    if (d.kind !== 'handoff') return;
    expect(rules(d)).toEqual(['explicit_human_request']);
    expect(d.priorityReasons.map((r) => r.rule)).toEqual(['sla_priority']);
    expect(d.priority).toBe(Priority.HIGH);
    expect(d.missing).toEqual(['ai_proposal', 'sentiment']);
  });

  it('given an account the CRM does not know, decides as without an account', async () => {
    const unknown: DecisionContext = { accountLookup: 'unknown', pageUrl: '' };
    const unavailable: DecisionContext = { accountLookup: 'unavailable', pageUrl: '' };
    for (const message of [
      { proposal: proposal(0.95), score: score(0.1) },
      { proposal: proposal(0.5), score: score(0) },
      { text: 'I dispute the €900 charge', proposal: proposal(0.95), score: score(0) },
    ]) {
      const without = await decide(stateWith(message), 'm1', defaultPolicy, false, NO_CONTEXT);
      expect(await decide(stateWith(message), 'm1', defaultPolicy, false, unknown)).toEqual(
        without,
      );
      expect(await decide(stateWith(message), 'm1', defaultPolicy, false, unavailable)).toEqual(
        without,
      );
    }
  });

  it('given an unhappy customer on the cancellation page, hands off to retention; on the help page, releases', async () => {
    const unhappy = () =>
      stateWith({
        text: 'How do I stop my subscription?',
        proposal: proposal(0.95),
        score: score(-0.3),
      });
    const cancel = await decide(
      unhappy(),
      'm1',
      defaultPolicy,
      false,
      onPage('https://app.example.com/account/cancel?step=2'),
    );
    expect(cancel.kind).toBe('handoff');
    if (cancel.kind !== 'handoff') return;
    expect(rules(cancel)).toEqual(['cancellation_page']);
    expect(cancel.requiredSkills[0]).toBe('retention');
    expect(cancel.priority).toBe(Priority.HIGH);
    const help = await decide(
      unhappy(),
      'm1',
      defaultPolicy,
      false,
      onPage('https://app.example.com/help'),
    );
    expect(help).toEqual({ kind: 'release', missing: [] });
  });

  it('given no page in the context, takes the page the conversation carries', async () => {
    const d = await decide(
      stateWith(
        { proposal: proposal(0.95), score: score(-0.3) },
        { pageUrl: 'https://app.example.com/account/cancel' },
      ),
      'm1',
      defaultPolicy,
      false,
      NO_CONTEXT,
    );
    expect(rules(d)).toEqual(['cancellation_page']);
  });
});
