/** What the customer is told when a person joins or when they have to wait. */

export function assignedNotice(agentName: string, team: string): string {
  const from = team.trim() ? ` from the ${team.trim()} team` : '';
  return `${agentName.trim() || 'An agent'}${from} has joined the conversation and can see everything so far.`;
}

export const QUEUED_NOTICE =
  "All our agents are busy right now. You're in the queue and a person will join as soon as one is free; you don't need to repeat anything.";
