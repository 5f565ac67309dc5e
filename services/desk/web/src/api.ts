// The desk API (same origin, session cookie).

export interface Agent {
  login: string;
  agentId: string;
  name: string;
  team: string;
}

// The queue's shapes are the server's own (type-only: nothing of the server is bundled).
import type { TranscriptLine } from '@support/conversation';
import type { Lane, QueueItem } from '../../src/domain/queue';
export type { Lane, QueueItem, TranscriptLine };

export interface Trigger {
  rule: string;
  detail?: string;
  value?: number;
  threshold?: number;
}

export interface Account {
  accountId?: string;
  name?: string;
  tier?: string;
  plan?: string;
  monthlyValue?: number;
  currency?: string;
  vip?: boolean;
  atRisk?: boolean;
  owner?: string;
  openInvoices?: {
    invoiceId?: string;
    amount?: number;
    currency?: string;
    status?: string;
    dueDate?: string;
  }[];
  openIncidents?: { incidentId?: string; title?: string; severity?: string }[];
  sla?: string;
  slaFirstResponseMinutes?: number;
}

export interface Briefing {
  handoffId: string;
  priority?: string;
  requiredSkills?: string[];
  language?: string;
  triggers?: Trigger[];
  priorityReasons?: Trigger[];
  revision?: number;
  briefing?: {
    summary?: string;
    summaryGenerator?: string;
    intent?: string;
    topic?: string;
    aiAttempts?: string[];
    articlesTried?: string[];
    collectedDetails?: { name: string; value: string }[];
    missingDetails?: string[];
    account?: Account;
    accountLookup?: string;
    page?: { url?: string; path?: string; area?: string };
    pageUrl?: string;
    trajectory?: { smoothed?: number; change?: number; shift?: boolean };
    sentimentTrajectory?: number[];
  };
}

export interface ConversationView {
  conversation: {
    conversationId: string;
    status: string;
    channel: string;
    customerId: string;
    accountId: string;
    locale: string;
    transcript: TranscriptLine[];
    handoff?: {
      handoffId: string;
      summary: string;
      priority: number;
      requestedAt: string;
      triggers: Trigger[];
      agent?: { agentId: string; agentName: string; team: string; acceptedAt?: string };
      falseEscalation?: { note: string; at: string };
      articleDrafts?: { draftId: string; title: string }[];
      handedBackAt?: string;
    };
    humanStretches?: { agentName: string; from: string; to: string; ended: string; note: string }[];
  };
  lane: Lane;
  briefing: Briefing | null;
  assignment: { agentId: string; status: string; acceptBy: string } | null;
  draft: {
    replyId: string;
    text: string;
    confidence: number;
    citations: { title: string }[];
  } | null;
  review: {
    messageId: string;
    replyId: string;
    text: string;
    confidence: number;
    citations: { articleId: string; title: string }[];
    rules: string[];
  } | null;
  articleDraft: { title: string; body: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The session's CSRF token (from POST or GET /v1/session), sent with every request that changes something. */
let csrfToken = '';

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' || !csrfToken ? {} : { 'x-csrf-token': csrfToken }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => ({}))) as {
    message?: string | string[];
    issues?: { field: string; message: string }[];
  };
  if (!response.ok) {
    const detail = json.issues?.map((i) => `${i.field}: ${i.message}`).join('; ');
    throw new ApiError(
      response.status,
      detail || [json.message].flat().join('; ') || response.statusText,
    );
  }
  return json as T;
}

/** Keeps the session's CSRF token; the agent without it. */
function signedIn({ csrfToken: token, ...agent }: Agent & { csrfToken: string }): Agent {
  csrfToken = token;
  return agent;
}

export const api = {
  me: () => call<Agent & { csrfToken: string }>('GET', '/v1/session').then(signedIn),
  signIn: (login: string, password: string) =>
    call<Agent & { csrfToken: string }>('POST', '/v1/session', { login, password }).then(signedIn),
  signOut: () =>
    call<void>('DELETE', '/v1/session').finally(() => {
      csrfToken = '';
    }),
  /** 204; every other session of the login ends. */
  changePassword: (currentPassword: string, newPassword: string) =>
    call<void>('PUT', '/v1/session/password', { currentPassword, newPassword }),
  queue: () => call<{ items: QueueItem[] }>('GET', '/v1/desk/queue'),
  conversation: (id: string) => call<ConversationView>('GET', `/v1/desk/conversations/${id}`),
  act: (id: string, action: Record<string, unknown>) =>
    call<{ actionId: string }>('POST', `/v1/desk/conversations/${id}/actions`, action, {
      'idempotency-key': crypto.randomUUID(),
    }),
  presence: (status: 'online' | 'away' | 'offline') =>
    call<unknown>('POST', '/v1/desk/presence', { status }),
};

// The analyst API of the metrics service, through the desk (/v1/analytics/<name>, session cookie).
// The shapes are the metrics service's own (services/metrics/src/domain/api.ts).
import type {
  Breakdown,
  ChurnRisk,
  Handoffs,
  Interval,
  Overview,
  RuleWhatIf,
  Rules,
  SegmentName,
  Timeseries,
  Topics,
} from '../../../metrics/src/domain/api';
export type * from '../../../metrics/src/domain/api';

/** The dashboard's filters as query parameters (empty values left out). */
export type AnalyticsQuery = Record<string, string | undefined>;

/** `/v1/analytics/<name>?<query>`: the JSON endpoint, or with `format=csv` its download. */
export function analyticsUrl(name: string, query: AnalyticsQuery, csv = false): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  if (csv) params.set('format', 'csv');
  const q = params.toString();
  return `/v1/analytics/${name}${q ? `?${q}` : ''}`;
}

export const analytics = {
  overview: (q: AnalyticsQuery) => call<Overview>('GET', analyticsUrl('overview', q)),
  timeseries: (q: AnalyticsQuery, interval: Interval) =>
    call<Timeseries>('GET', analyticsUrl('timeseries', { ...q, interval })),
  breakdown: (q: AnalyticsQuery, groupBy: SegmentName) =>
    call<Breakdown>('GET', analyticsUrl('breakdown', { ...q, groupBy })),
  handoffs: (q: AnalyticsQuery) => call<Handoffs>('GET', analyticsUrl('handoffs', q)),
  rules: (q: AnalyticsQuery) => call<Rules>('GET', analyticsUrl('rules', q)),
  topics: (q: AnalyticsQuery, interval: Interval) =>
    call<Topics>('GET', analyticsUrl('topics', { ...q, interval })),
  churnRisk: (q: AnalyticsQuery) => call<ChurnRisk>('GET', analyticsUrl('churn-risk', q)),
  whatIf: (rule: string, q: AnalyticsQuery) =>
    call<RuleWhatIf>('POST', analyticsUrl(`rules/${encodeURIComponent(rule)}/whatif`, q), {}),
};

// The knowledge suggestions (the learning loop).

export type SuggestionStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface KnowledgeSuggestion {
  suggestionId: string;
  title: string;
  body: string;
  tags: string[];
  topic: string;
  origin: string;
  status: SuggestionStatus;
  occurrences: number;
  sources: { conversationId: string; handoffId: string; agentId: string; question: string }[];
  articleId: string | null;
  reviewerId: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export const knowledgeApi = {
  suggestions: (status: SuggestionStatus) =>
    call<{ suggestions: KnowledgeSuggestion[] }>(
      'GET',
      `/v1/desk/knowledge/suggestions?status=${status}`,
    ),
  approve: (id: string, edits: { title?: string; body?: string; tags?: string[] }) =>
    call<{ reviewId: string }>(
      'POST',
      `/v1/desk/knowledge/suggestions/${encodeURIComponent(id)}/approve`,
      edits,
    ),
  reject: (id: string, reason: string) =>
    call<{ reviewId: string }>(
      'POST',
      `/v1/desk/knowledge/suggestions/${encodeURIComponent(id)}/reject`,
      { reason },
    ),
};
