import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { Bus, Topics } from '@support/bus';
import { AgentPresenceSchema, create, DeskActionSchema, PresenceStatus } from '@support/contracts';
import { JsonLogger } from '@support/service-kit';
import { actionCase, type ActionInput } from '../domain/actions.js';

const actionsCounter = new Counter({
  name: 'desk_actions_total',
  help: 'Agent actions published on desk.actions, by type and source (desk or gateway)',
  labelNames: ['type', 'source'],
});

export type PresenceInput = 'online' | 'away' | 'offline';

const PRESENCE: Record<PresenceInput, PresenceStatus> = {
  online: PresenceStatus.ONLINE,
  away: PresenceStatus.AWAY,
  offline: PresenceStatus.OFFLINE,
};

/** Publishes what agents do: their actions on desk.actions, their presence on agent.presence. */
@Injectable()
export class DeskPublisher {
  constructor(
    private readonly bus: Bus,
    private readonly logger: JsonLogger,
  ) {}

  async action(
    conversationId: string,
    agent: { agentId: string; name: string },
    input: ActionInput,
    opts: { actionId?: string; source: 'desk' | 'gateway'; correlationId?: string },
  ): Promise<string> {
    const actionId = opts.actionId || randomUUID();
    const value = create(DeskActionSchema, {
      actionId,
      conversationId,
      handoffId: input.handoffId,
      agentId: agent.agentId,
      agentName: agent.name,
      sentAt: new Date().toISOString(),
      action: actionCase(input),
    });
    await this.bus.publish({
      topic: Topics.deskActions,
      key: conversationId,
      value,
      eventId: actionId,
      ...(opts.correlationId ? { correlationId: opts.correlationId } : {}),
    });
    actionsCounter.inc({ type: input.type, source: opts.source });
    this.logger.log('desk action published', {
      conversationId,
      handoffId: input.handoffId,
      agentId: agent.agentId,
      type: input.type,
      actionId,
    });
    return actionId;
  }

  async presence(agentId: string, status: PresenceInput): Promise<void> {
    await this.bus.publish({
      topic: Topics.presence,
      key: agentId,
      value: create(AgentPresenceSchema, {
        agentId,
        status: PRESENCE[status],
        reportedAt: new Date().toISOString(),
      }),
    });
  }
}
