import { Priority } from '@support/contracts';

/** The support taxonomy the intent classifier is trained on (services/ai-responder/corpus). */
export const INTENTS = [
  'billing',
  'account_access',
  'technical_integration',
  'how_to',
  'bug_report',
  'cancellation',
  'contract_legal',
  'compliance_privacy',
  'security',
  'feedback',
  'human_request',
  'smalltalk',
  'out_of_scope',
] as const;

export type Intent = (typeof INTENTS)[number];

export const OUT_OF_SCOPE: Intent = 'out_of_scope';

/** A detail a person needs before acting on a request. */
export type DetailName =
  'invoice_or_order_number' | 'account_email' | 'error_message' | 'steps_to_reproduce';

export interface IntentProfile {
  /** The skill a person needs to take the conversation over. */
  skill: string;
  /** Urgency when nothing in the text raises it. */
  urgency: Priority;
  /** Details to collect before a handoff, asked for once. */
  required: DetailName[];
  /**
   * When set, the details are needed only for a specific case the customer
   * reports (a charge, a failure, a data request), not for a general question
   * of the same intent ("do you offer discounts?").
   */
  caseCue?: RegExp;
}

export const PROFILES: Record<Intent, IntentProfile> = {
  billing: {
    skill: 'billing',
    urgency: Priority.NORMAL,
    required: ['account_email', 'invoice_or_order_number'],
    caseCue:
      /\b(charg\w*|overcharg\w*|invoice[sd]?|billed|refund\w*|money back|payments?|paid|receipts?|twice|double|transactions?|statement)\b/i,
  },
  account_access: {
    skill: 'account',
    urgency: Priority.HIGH,
    required: ['account_email'],
  },
  technical_integration: {
    skill: 'technical',
    urgency: Priority.NORMAL,
    required: ['error_message'],
    caseCue:
      /\b(errors?|fail\w*|broken|stopped|not (working|syncing|loading)|(does|did|is)n'?t (work|sync|load)\w*|issues?|problems?|bug|timeouts?|timed out|rejected|invalid|\d{3})\b/i,
  },
  how_to: { skill: 'general', urgency: Priority.LOW, required: [] },
  bug_report: {
    skill: 'technical',
    urgency: Priority.NORMAL,
    required: ['error_message', 'steps_to_reproduce'],
  },
  cancellation: {
    skill: 'retention',
    urgency: Priority.NORMAL,
    required: ['account_email'],
  },
  contract_legal: { skill: 'legal', urgency: Priority.HIGH, required: [] },
  compliance_privacy: {
    skill: 'privacy',
    urgency: Priority.NORMAL,
    required: ['account_email'],
    caseCue:
      /\b(delet\w*|eras\w*|remove|export|copy|access|request\w*|gdpr|ccpa|dsar|my (data|information)|personal data)\b/i,
  },
  security: {
    skill: 'security',
    urgency: Priority.URGENT,
    required: ['account_email'],
  },
  feedback: { skill: 'general', urgency: Priority.LOW, required: [] },
  human_request: { skill: 'general', urgency: Priority.NORMAL, required: [] },
  smalltalk: { skill: 'general', urgency: Priority.LOW, required: [] },
  out_of_scope: { skill: 'general', urgency: Priority.LOW, required: [] },
};

export function profileOf(intent: string): IntentProfile {
  return PROFILES[intent as Intent] ?? PROFILES.out_of_scope;
}

const URGENT_CUES =
  /\b(urgent(ly)?|asap|immediately|right now|emergency|production (is )?down|outage|all users|nobody can|can(no|')t (log ?in|access|pay)|payroll|deadline (is )?today|losing money|data (loss|breach)|hacked|fraud(ulent)?)\b/i;

/** Urgency: the intent's own, raised one step by urgent wording (never above urgent). */
export function urgencyOf(intent: string, text: string): Priority {
  const base = profileOf(intent).urgency;
  if (URGENT_CUES.test(text)) return Math.min(Priority.URGENT, base + 1) as Priority;
  return base;
}
