import { Counter } from 'prom-client';

/** Messages scored, by label. */
export const scoredTotal = new Counter({
  name: 'sentiment_scorer_messages_scored_total',
  help: 'Customer messages scored, by sentiment label',
  labelNames: ['label'] as const,
});

/** Support signals found, by signal. */
export const signalsTotal = new Counter({
  name: 'sentiment_scorer_signals_total',
  help: 'Support signals (frustration, urgency, churn_threat, shouting, profanity, still_failing, money_lost, repetition, sentiment_shift) found in customer messages',
  labelNames: ['signal'] as const,
});
