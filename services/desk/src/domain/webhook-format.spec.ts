import {
  create,
  AgentAssignmentSchema,
  AssignmentStatus,
  ChurnRiskSchema,
  HandoffRequestSchema,
  KnowledgeGapSchema,
  Priority,
} from '@support/contracts';
import {
  clip,
  escapeMrkdwn,
  monthlyValue,
  ownerName,
  slackAssignment,
  slackChurnRisk,
  slackHandoff,
  slackKnowledgeGap,
} from './webhook-format';

const billingDispute = create(HandoffRequestSchema, {
  handoffId: 'h-1',
  conversationId: 'c-1',
  priority: Priority.HIGH,
  requiredSkills: ['billing'],
  language: 'en',
  triggers: [{ rule: 'contract_topic', detail: 'dispute' }],
  briefing: {
    summary: 'Disputes the March invoice: charged twice for 40 seats.',
    intent: 'billing',
    topic: 'dispute',
    account: { accountId: 'acct-acme', name: 'Acme', tier: 'enterprise' },
  },
});

describe('slackHandoff: a handoff as a Slack message', () => {
  it('says what, for whom, how urgent, and the summary', () => {
    expect(slackHandoff(billingDispute)).toEqual({
      text: 'Handoff: billing, dispute for Acme (enterprise), priority high — Disputes the March invoice: charged twice for 40 seats.',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Handoff: billing, dispute for Acme (enterprise), priority high*\nDisputes the March invoice: charged twice for 40 seats.',
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'Why: contract topic · Skills: billing · Language: en · Conversation `c-1` · Handoff `h-1`',
            },
          ],
        },
      ],
    });
  });

  it('leaves out what the handoff does not know', () => {
    const bare = create(HandoffRequestSchema, {
      handoffId: 'h-2',
      conversationId: 'c-2',
      priority: Priority.URGENT,
      briefing: { intent: 'unknown' },
    });
    const msg = slackHandoff(bare);
    expect(msg.text).toBe('Handoff: a conversation, priority urgent');
    expect(msg.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Conversation `c-2` · Handoff `h-2`' }],
    });
  });

  it("escapes the customer's words so they cannot mention or link in Slack", () => {
    const sneaky = create(HandoffRequestSchema, {
      handoffId: 'h-3',
      conversationId: 'c-3',
      briefing: { summary: 'Tell <!channel> & <https://evil.example|click>' },
    });
    const msg = slackHandoff(sneaky);
    expect(msg.text).toContain('Tell &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(JSON.stringify(msg.blocks)).not.toContain('<!channel>');
  });
});

describe('slackAssignment', () => {
  it('names the agent and team and what happened', () => {
    const a = create(AgentAssignmentSchema, {
      handoffId: 'h-1',
      conversationId: 'c-1',
      agentName: 'Ida',
      team: 'Legal',
      status: AssignmentStatus.ACCEPTED,
    });
    expect(slackAssignment(a).text).toBe('Handoff accepted by Ida (Legal)');
  });
});

describe('slackChurnRisk', () => {
  it('says which account, what it is worth, whose it is, and why', () => {
    const msg = slackChurnRisk(
      create(ChurnRiskSchema, {
        accountId: 'acct-acme',
        accountName: 'Acme',
        tier: 'enterprise',
        monthlyValue: 4000,
        currency: 'EUR',
        owner: 'Maria Rossi <maria@example.com>',
        conversationId: 'c-9',
        reasons: ['flagged at risk in the CRM', 'sentiment fell from 0.2 to -0.7'],
        sentiment: -0.7,
      }),
    );
    expect(msg.text).toBe(
      'Churn risk: Acme (enterprise, 4,000 EUR/month, owner Maria Rossi) — flagged at risk in the CRM; sentiment fell from 0.2 to -0.7',
    );
    expect(msg.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Churn risk: Acme (enterprise, 4,000 EUR/month, owner Maria Rossi)*',
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '• flagged at risk in the CRM\n• sentiment fell from 0.2 to -0.7',
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'Account `acct-acme` · Conversation `c-9` · Owner: Maria Rossi &lt;maria@example.com&gt;',
          },
        ],
      },
    ]);
  });

  it('names the account by id when the CRM gave no name or facts', () => {
    const msg = slackChurnRisk(create(ChurnRiskSchema, { accountId: 'acct-x', reasons: [] }));
    expect(msg.text).toBe('Churn risk: acct-x');
    expect(msg.blocks).toHaveLength(2);
  });
});

describe('slackKnowledgeGap', () => {
  it('says the topic, the escalations against before, and what customers asked', () => {
    const msg = slackKnowledgeGap(
      create(KnowledgeGapSchema, {
        topic: 'billing',
        escalations: 9,
        previousEscalations: 3,
        windowHours: 24,
        examples: ['Why was I charged twice?', 'Where is my <refund>?'],
      }),
    );
    expect(msg.text).toBe('Knowledge gap: billing — 9 escalations in 24 h (3 before)');
    expect(msg.blocks[1]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: 'Customers asked:\n> Why was I charged twice?\n> Where is my &lt;refund&gt;?',
      },
    });
    expect(msg.blocks.at(-1)?.type).toBe('context');
  });
});

describe('the small helpers', () => {
  it('escapes only what Slack reads as markup', () => {
    expect(escapeMrkdwn('a < b & c > d *bold*')).toBe('a &lt; b &amp; c &gt; d *bold*');
  });

  it('clips at a word with an ellipsis', () => {
    expect(clip('one two three four', 12)).toBe('one two…');
    expect(clip('  short\n text ', 20)).toBe('short text');
  });

  it('writes money per month and owners by name', () => {
    expect(monthlyValue(4000, 'EUR')).toBe('4,000 EUR/month');
    expect(monthlyValue(1234.6, '')).toBe('1,235/month');
    expect(monthlyValue(0, 'EUR')).toBe('');
    expect(ownerName('Maria Rossi <maria@example.com>')).toBe('Maria Rossi');
    expect(ownerName('<maria@example.com>')).toBe('<maria@example.com>');
  });
});
