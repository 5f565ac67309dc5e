import {
  initialState,
  type ConversationState,
  type MessageView,
  type ProposalView,
} from '@support/conversation';
import { handoffTopic, topicOfProposal, topicSkills } from './topic';

const proposal = (over: Partial<ProposalView> = {}): ProposalView => ({
  replyId: 'r',
  text: 'Here is how',
  confidence: 0.95,
  intent: 'technical_integration',
  intentProbability: 0.9,
  topic: 'integrations',
  outOfScope: false,
  urgency: 0,
  requiredSkills: ['technical'],
  kind: 'answer',
  missingDetails: [],
  generator: 'extractive',
  flags: [],
  citations: [],
  articlesTried: [],
  at: 't',
  ...over,
});

const message = (messageId: string, p?: Partial<ProposalView>): MessageView => ({
  messageId,
  text: '…',
  at: messageId,
  ...(p ? { proposal: proposal(p) } : {}),
});

const conversation = (...messages: MessageView[]): ConversationState => ({
  ...initialState('c1'),
  messages,
});

describe('topicOfProposal', () => {
  it('takes the skills the responder tagged, else the intent’s, else the product area’s', () => {
    expect(topicOfProposal('m', proposal())?.skills).toEqual(['technical']);
    expect(
      topicOfProposal('m', proposal({ requiredSkills: [], intent: 'billing' }))?.skills,
    ).toEqual(['billing']);
    // A how-to answered from an integrations article: the area says who knows it.
    expect(
      topicOfProposal('m', proposal({ intent: 'how_to', requiredSkills: ['general'] }))?.skills,
    ).toEqual(['integrations']);
    expect(
      topicOfProposal(
        'm',
        proposal({ intent: 'how_to', requiredSkills: ['general'], topic: 'cards' }),
      )?.skills,
    ).toEqual([]);
  });

  it('finds no subject in a request for a person, small talk, feedback or an out-of-scope message', () => {
    for (const intent of ['human_request', 'smalltalk', 'feedback', 'out_of_scope', 'unknown', ''])
      expect(
        topicOfProposal('m', proposal({ intent, requiredSkills: ['general'] })),
      ).toBeUndefined();
    expect(topicOfProposal('m', proposal({ outOfScope: true }))).toBeUndefined();
    expect(topicOfProposal('m', undefined)).toBeUndefined();
  });
});

describe('handoffTopic', () => {
  it('given the message’s own proposal names a subject, is that subject', () => {
    const state = conversation(
      message('m1'),
      message('m2', { intent: 'billing', topic: 'billing', requiredSkills: ['billing'] }),
    );
    expect(handoffTopic(state, state.messages[1], 0.5)).toMatchObject({
      intent: 'billing',
      skills: ['billing'],
      messageId: 'm2',
    });
  });

  it('given a message without a proposal yet, carries the latest earlier subject', () => {
    const state = conversation(
      message('m1', { intent: 'billing', topic: 'billing', requiredSkills: ['billing'] }),
      message('m2', {}),
      message('m3', {}),
      message('m4'),
    );
    expect(handoffTopic(state, state.messages[3], 0.5)).toMatchObject({
      intent: 'technical_integration',
      topic: 'integrations',
      skills: ['technical'],
      messageId: 'm3',
    });
  });

  it('given a request for a person, looks past it to what the conversation was about', () => {
    const state = conversation(
      message('m1', {}),
      message('m2', { intent: 'human_request', requiredSkills: ['general'], topic: 'support' }),
    );
    expect(handoffTopic(state, state.messages[1], 0.5)?.messageId).toBe('m1');
    expect(topicSkills(state, state.messages[1], 0.5)).toEqual(['technical']);
  });

  it('given an earlier answer whose intent was unsure, carries the product area the AI answered from', () => {
    const answered = {
      ...message('m1', { intent: 'how_to', intentProbability: 0.38, requiredSkills: ['general'] }),
      decision: { kind: 'released' as const, at: 't' },
    };
    const state = conversation(answered, message('m2'));
    expect(handoffTopic(state, state.messages[1], 0.5)).toMatchObject({
      skills: ['integrations'],
      messageId: 'm1',
    });
    // An unsure intent's own skill is not trusted, even for an answered message.
    const unsure = {
      ...message('m1', {
        intent: 'security',
        intentProbability: 0.4,
        requiredSkills: ['security'],
      }),
      decision: { kind: 'released' as const, at: 't' },
    };
    expect(topicSkills(conversation(unsure, message('m2')), message('m2'), 0.5)).toEqual([
      'integrations',
    ]);
  });

  it('does not carry a subject the classifier was unsure of, and looks only backwards', () => {
    const state = conversation(
      message('m1', { intentProbability: 0.3 }),
      message('m2'),
      message('m3', { intent: 'billing', requiredSkills: ['billing'] }),
    );
    expect(handoffTopic(state, state.messages[1], 0.5)).toBeUndefined();
    expect(topicSkills(state, state.messages[1], 0.5)).toEqual(['general']);
    expect(topicSkills(conversation(message('m1')), message('m1'), 0.5)).toEqual(['general']);
  });
});
