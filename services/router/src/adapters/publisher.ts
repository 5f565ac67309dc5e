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
import { assignedNotice, QUEUED_NOTICE } from '../domain/notices.js';

export interface AssignedAgent {
  id: string;
  name: string;
  team: string;
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
    const notice = this.systemMessage(
      target,
      deterministicId('outbound-assigned', target.handoffId),
      assignedNotice(agent.name, agent.team),
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
      { topic: Topics.outbound, key, value: notice, eventId: notice.messageId, ...cause },
    );
  }

  /** HandoffQueued on the log and the customer's notice that they wait. */
  async queued(target: HandoffTarget, why: Cause): Promise<void> {
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
      },
      at,
    );
    const notice = this.systemMessage(
      target,
      deterministicId('outbound-queued', target.handoffId),
      QUEUED_NOTICE,
      at,
    );
    await this.bus.publish(
      { topic: Topics.events, key, value: event, eventId: event.eventId, ...cause },
      { topic: Topics.outbound, key, value: notice, eventId: notice.messageId, ...cause },
    );
  }
}
