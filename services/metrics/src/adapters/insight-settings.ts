import { z } from 'zod';
import { loadConfig } from '@support/service-kit';
import { defaultInsightSettings as defaults, type InsightSettings } from '../domain/insights.js';

const insightsConfigSchema = z.object({
  INSIGHT_CHURN_SENTIMENT: z.coerce.number().min(-1).max(1).default(defaults.churnSentiment),
  INSIGHT_CHURN_CHANGE: z.coerce.number().min(-2).max(0).default(defaults.churnChange),
  INSIGHT_CHURN_CSAT: z.coerce.number().int().min(1).max(5).default(defaults.churnCsat),
  INSIGHT_GAP_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(168)
    .default(defaults.gapWindowHours),
  INSIGHT_GAP_MIN: z.coerce.number().int().min(1).default(defaults.gapMin),
  INSIGHT_GAP_RATIO: z.coerce.number().min(1).default(defaults.gapRatio),
  INSIGHT_ALERT_MAX_AGE_HOURS: z.coerce.number().positive().default(defaults.alertMaxAgeHours),
  INSIGHT_GAP_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(defaults.gapCheckMs),
});

/** The insights' settings from the environment (INSIGHT_*); an invalid one stops the service. */
export function loadInsightSettings(env: NodeJS.ProcessEnv = process.env): InsightSettings {
  const c = loadConfig(insightsConfigSchema, env);
  return {
    churnSentiment: c.INSIGHT_CHURN_SENTIMENT,
    churnChange: c.INSIGHT_CHURN_CHANGE,
    churnCsat: c.INSIGHT_CHURN_CSAT,
    gapWindowHours: c.INSIGHT_GAP_WINDOW_HOURS,
    gapMin: c.INSIGHT_GAP_MIN,
    gapRatio: c.INSIGHT_GAP_RATIO,
    alertMaxAgeHours: c.INSIGHT_ALERT_MAX_AGE_HOURS,
    gapCheckMs: c.INSIGHT_GAP_CHECK_MS,
  };
}
