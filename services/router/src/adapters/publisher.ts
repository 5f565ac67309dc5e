import { Injectable } from '@nestjs/common';
import { Bus, Topics, deterministicId } from '@support/bus';
import {
  AgentAssignmentSchema,
  AssignmentStatus,
  type ConversationEvent,
  OutboundKind,
  OutboundMessageSchema,
  create,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { attemptOf, queueName, type HandoffTarget } from '../domain/handoff.js';
import type { AssignedTo, EndedReason } from '../domain/lifecycle.js';
import { acceptDeadline } from '../domain/routing-policy.js';
import { notice, teamText, waitText, whenText } from '@support/notices';
import type { PendingAcceptance } from './load-store.js';

export interface AssignedAgent {
  id: string;
  name: string;
  team: string;
}

/** Where a queued handoff stands, for the customer. */
export interface WaitInfo {
  position: number;
  seconds: number;
  team: string;
  /** Set when nobody is on duty: when the first agent who could take it is back. */
  offHours?: { dueAt: string };
}

/** Why the router chose the agent: recorded on the assignment. */
export interface AssignmentWhy {
  reason: string;
  step: string;
  version: string;
}

/** Where a publication comes from: the log record that caused it (empty when unknown). */
export interface Cause {
  correlationId: string;
  causationId: string;
}

/**
 * The id of something published for an attempt at routing a handoff: the
 * first attempt keeps the ids it always had; each re-route (after an agent
 * passed on it) has its own, so that it is not taken for a redelivery.
 */
export function attemptId(kind: string, handoffId: string, attempt: number): string {
  return attempt === 0
    ? deterministicId(kind, handoffId)
    : deterministicId(kind, handoffId, `attempt-${attempt}`);
}

const idFor = (kind: string, target: Pick<HandoffTarget, 'handoffId' | 'passedBy'>) =>
  attemptId(kind, target.handoffId, attemptOf(target));

/** Header fields for the bus; an empty id is left for the bus to default. */
const headersOf = (cause: Cause) => ({
  correlationId: cause.correlationId || undefined,
  causationId: cause.causationId || undefined,
});

/**
 * The router's records. Every id is derived from the handoff id (and the
 * attempt, or the agent), so a repeated publication (a redelivery, or two
 * replicas racing on a stalled claim or a timeout) is recognised downstream
 * and never shows the customer a second message.
 */
@Injectable()
export class RouterPublisher {
  constructor(private readonly bus: Bus) {}

  private systemMessage(target: HandoffTarget, messageId: string, text: string, at: string) {
    return create(OutboundMessageSchema, {
      messageId,
      conversationId: target.conversationId,
      channel: target.channel,
      externalConversationId: target.externalConversationId,
      customerId: target.customerId,
      kind: OutboundKind.SYSTEM,
      text,
      inReplyTo: target.messageId,
      sentAt: at,
      author: 'system',
    });
  }

  /** The customer's notice that an agent joined (who, from which team). */
  private joined(target: HandoffTarget, agent: { name: string; team: string }, at: string) {
    return this.systemMessage(
      target,
      idFor('outbound-assigned', target),
      notice('assigned', target.language, {
        agent: agent.name.trim() || 'An agent',
        team: teamText(agent.team, target.language),
      }),
      at,
    );
  }

  /**
   * AgentAssigned on the log and the assignment (ASSIGNED) for agent desks.
   * When the policy asks the agent to accept, the assignment says until when
   * and the customer hears who joined once they accept; otherwise now.
   */
  async assigned(
    target: HandoffTarget,
    agent: AssignedAgent,
    why: Cause,
    chosen: AssignmentWhy = { reason: '', step: '', version: '' },
    acceptWithinSeconds = 0,
  ): Promise<void> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const acceptBy = acceptDeadline({ acceptWithinSeconds }, at);
    const key = target.conversationId;
    const event = conversationEvent(
      key,
      idFor('assigned', target),
      'agentAssigned',
      {
        handoffId: target.handoffId,
        agentId: agent.id,
        agentName: agent.name,
        team: agent.team,
        reason: chosen.reason,
        routingStep: chosen.step,
        routingVersion: chosen.version,
      },
      at,
    );
    const assignment = create(AgentAssignmentSchema, {
      handoffId: target.handoffId,
      conversationId: key,
      agentId: agent.id,
      agentName: agent.name,
      team: agent.team,
      assignedAt: at,
      reason: chosen.reason,
      routingStep: chosen.step,
      routingVersion: chosen.version,
      status: AssignmentStatus.ASSIGNED,
      acceptBy,
    });
    // A reviewer checking the AI's draft does not join the conversation (unless they take it over).
    const joined = acceptBy || target.review ? [] : [this.joined(target, agent, at)];
    await this.bus.publish(
      { topic: Topics.events, key, value: event, eventId: event.eventId, ...cause },
      {
        topic: Topics.handoffAssignments,
        key,
        value: assignment,
        eventId: idFor('assignment', target),
        ...cause,
      },
      ...joined.map((m) => ({
        topic: Topics.outbound,
        key,
        value: m,
        eventId: m.messageId,
        ...cause,
      })),
    );
  }

  /** The agent accepted: the assignment (ACCEPTED) for desks and, when it waited for this, the customer's notice. */
  async accepted(
    target: HandoffTarget,
    agent: AssignedTo,
    why: Cause,
    tellCustomer: boolean,
  ): Promise<void> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const key = target.conversationId;
    const assignment = this.assignment(target, agent, AssignmentStatus.ACCEPTED);
    const joined = tellCustomer
      ? [this.joined(target, { name: agent.agentName, team: agent.team }, at)]
      : [];
    await this.bus.publish(
      {
        topic: Topics.handoffAssignments,
        key,
        value: assignment,
        eventId: deterministicId('assignment-accepted', target.handoffId, agent.agentId),
        ...cause,
      },
      ...joined.map((m) => ({
        topic: Topics.outbound,
        key,
        value: m,
        eventId: m.messageId,
        ...cause,
      })),
    );
  }

  /** The agent's assignment ended (RELEASED, with why) for desks: they hold the conversation no longer. */
  async released(
    target: Pick<HandoffTarget, 'conversationId' | 'handoffId'>,
    agent: AssignedTo,
    reason: EndedReason,
    why: Cause,
  ): Promise<void> {
    await this.bus.publish({
      topic: Topics.handoffAssignments,
      key: target.conversationId,
      value: this.assignment(target, agent, AssignmentStatus.RELEASED, reason),
      eventId: deterministicId('assignment-released', target.handoffId, agent.agentId),
      ...headersOf(why),
    });
  }

  private assignment(
    target: Pick<HandoffTarget, 'conversationId' | 'handoffId'>,
    agent: AssignedTo,
    status: AssignmentStatus,
    endedReason = '',
  ) {
    return create(AgentAssignmentSchema, {
      handoffId: target.handoffId,
      conversationId: target.conversationId,
      agentId: agent.agentId,
      agentName: agent.agentName,
      team: agent.team,
      assignedAt: agent.assignedAt,
      status,
      endedReason,
    });
  }

  /** The customer's notice that the agent handed them back to the AI. */
  async handedBack(target: HandoffTarget, agentName: string, why: Cause): Promise<void> {
    const told = this.systemMessage(
      target,
      deterministicId('outbound-handed-back', target.handoffId),
      notice('handedBack', target.language, { agent: agentName.trim() || 'An agent' }),
      new Date().toISOString(),
    );
    await this.bus.publish({
      topic: Topics.outbound,
      key: target.conversationId,
      value: told,
      eventId: told.messageId,
      ...headersOf(why),
    });
  }

  /** AcceptTimedOut on the log: the agent did not accept in time (the router then routes the handoff again). */
  async acceptTimedOut(pending: PendingAcceptance, waitedSeconds: number): Promise<void> {
    const key = pending.conversationId;
    const event = conversationEvent(
      key,
      deterministicId('accept-timed-out', pending.handoffId, pending.agentId),
      'acceptTimedOut',
      {
        handoffId: pending.handoffId,
        agentId: pending.agentId,
        waitedSeconds: Math.max(0, Math.round(waitedSeconds)),
      },
    );
    await this.bus.publish({
      topic: Topics.events,
      key,
      value: event,
      eventId: event.eventId,
      ...headersOf({ correlationId: pending.correlationId, causationId: pending.causationId }),
    });
  }

  /**
   * HandoffQueued on the log and the customer's notice: which team is coming,
   * their place in line and the estimated wait. Off hours (nobody on duty),
   * also FollowUpCreated, and the notice says from when someone will answer
   * and asks for an address unless the customer gave one. Queued again after
   * agents passed on it, the event and the notice are that attempt's (the
   * follow-up stays one per handoff).
   */
  async queued(target: HandoffTarget, why: Cause, wait: WaitInfo): Promise<void> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const key = target.conversationId;
    const event = conversationEvent(
      key,
      idFor('queued', target),
      'handoffQueued',
      {
        handoffId: target.handoffId,
        queue: queueName(target.requiredSkills),
        position: wait.position,
        estimatedWaitSeconds: wait.seconds,
        team: wait.team,
      },
      at,
    );
    const lang = target.language;
    const team = teamText(wait.team, lang);
    const contact = target.contact ?? '';
    const text = wait.offHours
      ? [
          wait.offHours.dueAt
            ? notice('offHours', lang, {
                team,
                when: whenText(new Date(wait.offHours.dueAt), lang),
              })
            : notice('offHoursNoTime', lang, { team }),
          contact
            ? notice('offHoursContactKnown', lang, { contact })
            : notice('offHoursAskContact', lang),
        ].join(' ')
      : notice('queued', lang, {
          team,
          position: wait.position,
          wait: waitText(wait.seconds, lang),
        });
    const told = this.systemMessage(target, idFor('outbound-queued', target), text, at);
    const followUp = wait.offHours
      ? [
          conversationEvent(
            key,
            deterministicId('follow-up', target.handoffId),
            'followUpCreated',
            { handoffId: target.handoffId, dueAt: wait.offHours.dueAt, contact },
            at,
          ),
        ]
      : [];
    await this.bus.publish(
      { topic: Topics.events, key, value: event, eventId: event.eventId, ...cause },
      ...followUp.map((e) => ({
        topic: Topics.events,
        key,
        value: e,
        eventId: e.eventId,
        ...cause,
      })),
      { topic: Topics.outbound, key, value: told, eventId: told.messageId, ...cause },
    );
  }

  /** The n-th update to a waiting customer: their new place in line and wait. */
  async waitUpdate(target: HandoffTarget, n: number, wait: WaitInfo): Promise<void> {
    const told = this.systemMessage(
      target,
      deterministicId(`outbound-queue-update-${n}`, target.handoffId),
      notice('update', target.language, {
        position: wait.position,
        wait: waitText(wait.seconds, target.language),
      }),
      new Date().toISOString(),
    );
    await this.bus.publish({
      topic: Topics.outbound,
      key: target.conversationId,
      value: told,
      eventId: told.messageId,
    });
  }

  /** The customer gave an address for the follow-up: recorded, and acknowledged. */
  async contactAdded(
    target: { conversationId: string; handoffId: string; language: string } & Omit<
      HandoffTarget,
      'handoffId' | 'conversationId' | 'language'
    >,
    messageId: string,
    contact: string,
    why: Cause,
  ): Promise<ConversationEvent> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const key = target.conversationId;
    const event = conversationEvent(
      key,
      deterministicId('follow-up-contact', messageId),
      'followUpContactAdded',
      { handoffId: target.handoffId, contact, messageId },
      at,
    );
    const told = this.systemMessage(
      { ...target, messageId },
      deterministicId('outbound-follow-up-contact', messageId),
      notice('contactNoted', target.language, { contact }),
      at,
    );
    await this.bus.publish(
      { topic: Topics.events, key, value: event, eventId: event.eventId, ...cause },
      { topic: Topics.outbound, key, value: told, eventId: told.messageId, ...cause },
    );
    return event;
  }
}
