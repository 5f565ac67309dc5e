import { Counter, Histogram } from 'prom-client';

/** Proposals published, by outcome: "answered" (an article was cited) or "no_match". */
export const proposalsTotal = new Counter({
  name: 'ai_responder_proposals_total',
  help: 'AI reply proposals published to the conversation log',
  labelNames: ['outcome'] as const,
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
  help: 'Knowledge-base full-text search latency',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
});
