import { parseArgs } from 'node:util';
import { Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { baseConfigSchema, loadConfig } from '@support/service-kit';
import { replayLog } from '@support/stream';
import { SERVICE } from './config.js';
import { loadHumanRequestDetector } from './adapters/human-request.js';
import { loadPolicyFile } from './domain/policy.js';
import { whatIf, type WhatIfReport } from './domain/whatif.js';

/**
 * `npm run whatif -- --policy candidate.yaml [--from 2026-11-20T00:00:00Z] [--to ...] [--json]`:
 * replays the conversation log under a candidate escalation policy, with no
 * side effects (it only reads the log), and reports how the decisions would
 * change: handoff rate, rule firings, the messages and conversations that flip.
 */
function print(report: WhatIfReport): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rules = (r: Record<string, number>) =>
    Object.entries(r)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  console.log(
    `what-if under policy ${report.candidateVersion}, conversations started ${report.window.from} .. ${report.window.to}`,
  );
  console.log(`  ${report.conversations} conversations, ${report.decisions} AI decisions replayed`);
  console.log(
    `  handoffs: recorded ${report.recorded.handoffs} (${pct(report.recorded.handoffRate)} of decisions, ${report.recorded.conversationsHandedOff} conversations)` +
      ` -> candidate ${report.candidate.handoffs} (${pct(report.candidate.handoffRate)}, ${report.candidate.conversationsHandedOff} conversations)`,
  );
  console.log(`  rules fired, recorded: ${rules(report.recorded.rules)}`);
  console.log(`  rules fired, candidate: ${rules(report.candidate.rules)}`);
  console.log(
    `  conversations that would reach a person only under the candidate: ${report.flipped.toHuman.length}; only as recorded: ${report.flipped.toAi.length}`,
  );
  for (const c of report.changed.slice(0, 20))
    console.log(
      `    ${c.conversationId} ${c.messageId}: ${c.recorded}${c.recordedRules.length ? ` (${c.recordedRules.join(', ')})` : ''} -> ${c.candidate}${c.candidateRules.length ? ` (${c.candidateRules.join(', ')})` : ''}`,
    );
  if (report.changed.length > 20)
    console.log(`    ... and ${report.changed.length - 20} more (--json for all)`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      policy: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.policy)
    throw new Error('--policy <file> is required: the candidate policy to replay under');
  const candidate = loadPolicyFile(values.policy);
  const config = loadConfig(baseConfigSchema);
  const bus = new Bus({ service: `${SERVICE}-whatif`, brokers: config.KAFKA_BROKERS });
  const events: ConversationEvent[] = [];
  try {
    await replayLog(bus, async (event) => {
      events.push(event);
    });
  } finally {
    await bus.close();
  }
  const { detect } = await loadHumanRequestDetector();
  const report = await whatIf(events, candidate, { from: values.from, to: values.to }, detect);
  if (values.json) console.log(JSON.stringify(report));
  else print(report);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
