import { Counter, Histogram } from 'prom-client';

/** Proposals published, by kind (answer, intake, no_answer, smalltalk) and intent. */
export const proposalsTotal = new Counter({
  name: 'ai_responder_proposals_total',
  help: 'AI reply proposals published to the conversation log',
  labelNames: ['kind', 'intent'] as const,
});

/** Confidence of the proposals published. */
export const proposalConfidence = new Histogram({
  name: 'ai_responder_confidence',
  help: 'Confidence of the AI reply proposals (0..1)',
  buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
});

/** Time spent in knowledge-base retrieval. */
export const retrievalSeconds = new Histogram({
  name: 'ai_responder_retrieval_seconds',
  help: 'Knowledge-base search latency',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
});

/** Time spent classifying and writing the answer (the chat model's round trip when one is configured). */
export const stepSeconds = new Histogram({
  name: 'ai_responder_step_seconds',
  help: 'Latency of the responder steps: classify, generate',
  labelNames: ['step'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/** Drafts proposed for the person who holds a conversation (never sent to the customer), by kind and intent. */
export const draftsTotal = new Counter({
  name: 'ai_responder_agent_drafts_total',
  help: 'AI reply drafts proposed for the agent who has or awaits the conversation',
  labelNames: ['kind', 'intent'] as const,
});
