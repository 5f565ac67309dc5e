/**
 * A conversation's state, rebuilt from its events. Plain JSON so that it can
 * be snapshotted; the same value whichever service folds it.
 */
export type ConversationStatus =
  | 'new'
  | 'ai_handling'
  | 'awaiting_human'
  | 'with_human'
  | 'resolved_by_ai'
  | 'resolved_by_human'
  | 'reopened';

export interface CitationView {
  articleId: string;
  title: string;
  snippet: string;
  score: number;
}

export interface DetailView {
  name: string;
  value: string;
  messageId: string;
}

/** How the responder meant its reply: an answer, a request for details, nothing to say, or small talk. */
export type ReplyKindView = 'answer' | 'intake' | 'no_answer' | 'smalltalk' | 'unspecified';

export interface ProposalView {
  replyId: string;
  text: string;
  confidence: number;
  intent: string;
  intentProbability: number;
  topic: string;
  outOfScope: boolean;
  urgency: number;
  requiredSkills: string[];
  kind: ReplyKindView;
  missingDetails: string[];
  generator: string;
  flags: string[];
  citations: CitationView[];
  articlesTried: string[];
  at: string;
}

export interface TrajectoryView {
  smoothed: number;
  start: number;
  change: number;
  turnedAtMessageId: string;
  shift: boolean;
  messages: number;
  /** The messages' frustration (0..1) smoothed from a calm start (absent in scores from before it existed). */
  frustration?: number;
}

export interface ScoreView {
  valence: number;
  label: string;
  signals: string[];
  /** The conversation's sentiment through this message (absent in scores from before it existed). */
  trajectory?: TrajectoryView;
  /** The earlier customer message this one repeats, and how alike (0..1). */
  repeats?: { messageId: string; similarity: number };
  /** How frustrated the customer sounds in this message, 0..1 (absent in scores from before it existed). */
  frustration?: number;
  at: string;
}

export interface DecisionView {
  /**
   * released: the AI's reply went out (also after a person approved or edited it: see `review`);
   * handoff: a person took the conversation (also a review taken over); review: the reply waits
   * for a person's check.
   */
  kind: 'released' | 'handoff' | 'review';
  at: string;
  /** The decision was a review, and how it ended (absent for a decision that was not reviewed). */
  review?: ReviewOutcomeView;
}

/** How a review of the AI's draft ended: pending until the reviewer acts. */
export type ReviewOutcomeView = 'pending' | 'approved' | 'edited' | 'taken_over';

/**
 * The AI's draft a person checks before the customer gets it (ReviewRequested), on the handoff
 * that routes it to them; `outcome` pending until they approve, edit or take over.
 */
export interface ReviewView {
  messageId: string;
  replyId: string;
  /** The AI's draft. */
  text: string;
  confidence: number;
  citations: CitationView[];
  policyVersion: string;
  outcome: ReviewOutcomeView;
  /** What the customer was sent (approved: the draft; edited: the edit; otherwise empty). */
  finalText: string;
  completedAt: string;
  reviewerId: string;
}

/** One customer message and what the services made of it. */
export interface MessageView {
  messageId: string;
  text: string;
  at: string;
  proposal?: ProposalView;
  score?: ScoreView;
  decision?: DecisionView;
}

export interface TranscriptLine {
  speaker: 'customer' | 'ai' | 'agent' | 'system';
  text: string;
  at: string;
  /** The agent's name, on an agent's line. */
  author?: string;
}

/** An agent who was given the handoff and let it go: declined, or did not accept in time. */
export interface PassView {
  agentId: string;
  reason: 'declined' | 'timeout';
  note: string;
  at: string;
}

/**
 * A stretch of the conversation a person held: from when they were assigned
 * to the handback (or the resolution); `to` is empty while it lasts. The AI,
 * when it answers again, reads this to know what a person did.
 */
export interface HumanStretch {
  handoffId: string;
  agentId: string;
  agentName: string;
  from: string;
  to: string;
  /**
   * How it ended: 'handed_back' (with the agent's note), 'resolved', or 'reviewed' (the person
   * approved or edited the AI's draft and the AI carries on); empty while it lasts.
   */
  ended: '' | 'handed_back' | 'resolved' | 'reviewed';
  note: string;
}

export interface HandoffView {
  handoffId: string;
  messageId: string;
  requestedAt: string;
  triggers: { rule: string; detail: string; value: number; threshold: number }[];
  priority: number;
  requiredSkills: string[];
  language: string;
  /** The team the handoff is meant for (HandoffRequested.team); absent when it names none. */
  team?: string;
  /** The briefing's summary, and who wrote it ("extractive" or the chat model). */
  summary: string;
  summaryGenerator: string;
  queue?: string;
  queuedAt?: string;
  /** Nobody was on duty: a person follows up from `dueAt`, also at `contact` when given. */
  followUp?: { dueAt: string; contact: string; createdAt: string };
  agent?: {
    agentId: string;
    agentName: string;
    team: string;
    assignedAt: string;
    /** When the agent accepted at their desk (absent until then). */
    acceptedAt?: string;
  };
  /** Agents who were given this handoff and let it go; the router does not offer it to them again. */
  passedBy?: PassView[];
  /** The agent handed the conversation back to the AI. */
  handedBackAt?: string;
  /** An agent said the AI could have handled this. */
  falseEscalation?: { agentId: string; note: string; at: string };
  /**
   * Set when the handoff is a review of the AI's draft (ReviewRequested) rather than a handoff;
   * a review taken over is a handoff from then on (outcome taken_over).
   */
  review?: ReviewView;
  /** When the reviewer approved or edited the draft and the AI carried on (absent otherwise). */
  reviewedAt?: string;
  /** Knowledge-base drafts agents proposed from this handoff. */
  articleDrafts?: { draftId: string; title: string; agentId: string; at: string }[];
}

/** The customer's rating of the conversation (CsatRated). */
export interface CsatView {
  /** The CsatRequested it answers (empty: rated unprompted). */
  requestId: string;
  /** 1 (very dissatisfied) to 5 (very satisfied). */
  score: number;
  comment: string;
  ratedAt: string;
}

/** A request to rate the conversation (CsatRequested), sent when it was resolved. */
export interface CsatRequestView {
  requestId: string;
  channel: string;
  requestedAt: string;
  /** The latest rating that answers this request, if any. */
  rating?: CsatView;
}

/** How the conversation was last resolved (ConversationResolved). */
export interface ResolutionView {
  resolution: 'ai' | 'human';
  resolvedBy: string;
  /** Assumed after the quiet window rather than confirmed. */
  assumed: boolean;
  at: string;
}

export interface ConversationState {
  conversationId: string;
  status: ConversationStatus;
  channel: string;
  externalConversationId: string;
  customerId: string;
  accountId: string;
  locale: string;
  pageUrl: string;
  startedAt: string;
  lastActivityAt: string;
  messages: MessageView[];
  transcript: TranscriptLine[];
  /** The current (or last) handoff. */
  handoff?: HandoffView;
  /** Every stretch a person held the conversation, oldest first. */
  humanStretches?: HumanStretch[];
  /** Details the AI collected from the customer (latest value per name). */
  details: DetailView[];
  handoffCount: number;
  resolutionCount: number;
  reopenCount: number;
  /** The last resolution (absent until the first; kept when the conversation reopens). */
  lastResolution?: ResolutionView;
  /** Every request to rate the conversation, oldest first (absent until the first). */
  csatRequests?: CsatRequestView[];
  /** The customer's latest rating (absent until they rate). */
  csat?: CsatView;
  /** Ids of the latest events applied (at most RECENT_EVENT_IDS, in the order applied), so that a repeated event changes nothing. */
  appliedEventIds: string[];
}

/** The conversation without its text (see lifecycleProjection). */
export type ConversationLifecycle = Omit<ConversationState, 'messages' | 'transcript'>;

export function initialState(conversationId: string): ConversationState {
  return {
    conversationId,
    status: 'new',
    channel: '',
    externalConversationId: '',
    customerId: '',
    accountId: '',
    locale: '',
    pageUrl: '',
    startedAt: '',
    lastActivityAt: '',
    messages: [],
    transcript: [],
    details: [],
    handoffCount: 0,
    resolutionCount: 0,
    reopenCount: 0,
    appliedEventIds: [],
  };
}

/** The AI may answer the customer: nobody human has or awaits the conversation. */
export function isBotActive(state: ConversationLifecycle): boolean {
  return state.status === 'new' || state.status === 'ai_handling' || state.status === 'reopened';
}

/** The handoff is waiting for an agent, or an agent holds it, and the conversation is open. */
export function isWithPerson(state: ConversationLifecycle): boolean {
  return state.status === 'awaiting_human' || state.status === 'with_human';
}

/** The stretch a person holds now, if any. */
export function currentStretch(state: ConversationLifecycle): HumanStretch | undefined {
  const last = state.humanStretches?.at(-1);
  return last && !last.to ? last : undefined;
}

/** The handoff is a review of the AI's draft that nobody has decided yet. */
export function isPendingReview(state: ConversationLifecycle): boolean {
  return state.handoff?.review?.outcome === 'pending' && isWithPerson(state);
}

/** When the AI last took the conversation back from a person (empty: never). */
export function lastHandbackAt(state: ConversationLifecycle): string {
  const back = (state.humanStretches ?? []).filter((s) => s.ended === 'handed_back');
  return back.at(-1)?.to ?? '';
}

export function isResolved(state: ConversationLifecycle): boolean {
  return state.status === 'resolved_by_ai' || state.status === 'resolved_by_human';
}

export function findMessage(state: ConversationState, messageId: string): MessageView | undefined {
  return state.messages.find((m) => m.messageId === messageId);
}
