// The desk API (same origin, session cookie).

export interface Agent {
  login: string;
  agentId: string;
  name: string;
  team: string;
}

export type Lane = 'offered' | 'mine' | 'waiting' | 'colleague';

export interface TranscriptLine {
  speaker: 'customer' | 'ai' | 'agent' | 'system';
  text: string;
  at: string;
  author?: string;
}

export interface QueueItem {
  conversationId: string;
  handoffId: string;
  lane: Lane;
  priority: number;
  requestedAt: string;
  summary: string;
  rules: string[];
  requiredSkills: string[];
  language: string;
  customerId: string;
  accountId: string;
  channel: string;
  agent?: { agentId: string; agentName: string; team: string; acceptedAt?: string };
  acceptBy: string;
  last?: TranscriptLine;
}

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

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
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

export const api = {
  me: () => call<Agent>('GET', '/v1/session'),
  signIn: (login: string, password: string) =>
    call<Agent>('POST', '/v1/session', { login, password }),
  signOut: () => call<void>('DELETE', '/v1/session'),
  queue: () => call<{ items: QueueItem[] }>('GET', '/v1/desk/queue'),
  conversation: (id: string) => call<ConversationView>('GET', `/v1/desk/conversations/${id}`),
  act: (id: string, action: Record<string, unknown>) =>
    call<{ actionId: string }>('POST', `/v1/desk/conversations/${id}/actions`, action, {
      'idempotency-key': crypto.randomUUID(),
    }),
  presence: (status: 'online' | 'away' | 'offline') =>
    call<unknown>('POST', '/v1/desk/presence', { status }),
};
