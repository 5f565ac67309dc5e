import { Injectable } from '@nestjs/common';
import { Bus, Topics, deterministicId } from '@support/bus';
import {
  AgentAssignmentSchema,
  OutboundKind,
  OutboundMessageSchema,
  create,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { queueName, type HandoffTarget } from '../domain/handoff.js';
import { notice, teamText, waitText, whenText } from '@support/notices';

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

/** Header fields for the bus; an empty id is left for the bus to default. */
const headersOf = (cause: Cause) => ({
  correlationId: cause.correlationId || undefined,
  causationId: cause.causationId || undefined,
});

/**
 * The router's records. Every id is derived from the handoff id, so a
 * repeated publication (a redelivery, or two replicas racing on a stalled
 * claim) is recognised downstream and never shows the customer a second message.
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

  /** AgentAssigned on the log, the assignment for agent desks, and the customer's notice. */
  async assigned(
    target: HandoffTarget,
    agent: AssignedAgent,
    why: Cause,
    chosen: AssignmentWhy = { reason: '', step: '', version: '' },
  ): Promise<void> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const key = target.conversationId;
    const event = conversationEvent(
      key,
      deterministicId('assigned', target.handoffId),
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
    });
    const joined = this.systemMessage(
      target,
      deterministicId('outbound-assigned', target.handoffId),
      notice('assigned', target.language, {
        agent: agent.name.trim() || 'An agent',
        team: teamText(agent.team, target.language),
      }),
      at,
    );
    await this.bus.publish(
      { topic: Topics.events, key, value: event, eventId: event.eventId, ...cause },
      {
        topic: Topics.handoffAssignments,
        key,
        value: assignment,
        eventId: deterministicId('assignment', target.handoffId),
        ...cause,
      },
      { topic: Topics.outbound, key, value: joined, eventId: joined.messageId, ...cause },
    );
  }

  /**
   * HandoffQueued on the log and the customer's notice: which team is coming,
   * their place in line and the estimated wait. Off hours (nobody on duty),
   * also FollowUpCreated, and the notice says from when someone will answer
   * and asks for an address unless the customer gave one.
   */
  async queued(target: HandoffTarget, why: Cause, wait: WaitInfo): Promise<void> {
    const cause = headersOf(why);
    const at = new Date().toISOString();
    const key = target.conversationId;
    const event = conversationEvent(
      key,
      deterministicId('queued', target.handoffId),
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
    const told = this.systemMessage(
      target,
      deterministicId('outbound-queued', target.handoffId),
      text,
      at,
    );
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
  ): Promise<void> {
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
  }
}
