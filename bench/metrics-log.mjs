// A synthetic conversation log for the metrics benchmark: conversations spread over a period,
// each a realistic run of events (messages, AI proposals and scores, releases or handoffs with
// triggers, assignment, acceptance, replies, resolutions, CSAT), from a seeded generator so that
// every run measures the same log.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { create, ConversationEventSchema, Resolution, Priority } = require('@support/contracts');

/** mulberry32: a small seeded generator (the log must be the same on every run). */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHANNELS = ['web', 'web', 'web', 'email', 'whatsapp'];
const LOCALES = ['en', 'en', 'en', 'de', 'fr', 'es'];
const TOPICS = ['billing', 'account', 'shipping', 'integrations', 'security', 'cancellation'];
const TIERS = ['free', 'pro', 'pro', 'business', 'enterprise'];
const RULES = [
  ['low_confidence', 0.9],
  ['frustration', -0.5],
  ['repeated_question', 0.6],
  ['topic_risk', 0],
  ['explicit_request', 0],
];

/**
 * Yields ConversationEvents in log order per conversation (conversations interleave the way
 * concurrent ones do), about `events` of them in all, over `days` days ending at `end`.
 */
export function* syntheticLog({ events, days = 30, end = Date.now(), seed = 42 }) {
  const rnd = seeded(seed);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const start = end - days * 86_400_000;
  let produced = 0;
  let n = 0;
  while (produced < events) {
    const id = `bench-c${n}`;
    const account = rnd() < 0.7 ? `acct-${Math.floor(rnd() * 5000)}` : '';
    const tier = pick(TIERS);
    const atRisk = rnd() < 0.05;
    const topic = pick(TOPICS);
    const channel = pick(CHANNELS);
    const locale = pick(LOCALES);
    let at = start + ((end - start) * n) / (events / 10) + rnd() * 60_000;
    if (at > end) at = end - rnd() * 86_400_000;
    n++;
    let seq = 0;
    const ev = (payload) => {
      at += 2_000 + rnd() * 40_000;
      produced++;
      return create(ConversationEventSchema, {
        eventId: `${id}-e${seq++}`,
        conversationId: id,
        occurredAt: new Date(at).toISOString(),
        payload,
      });
    };
    const accountMsg = account
      ? {
          accountId: account,
          name: `Account ${account}`,
          tier,
          atRisk,
          monthlyValue: 50 + rnd() * 5000,
          currency: 'EUR',
        }
      : undefined;
    const turns = 1 + Math.floor(rnd() * 3);
    let handed = false;
    let smoothed = 0.1;
    for (let t = 0; t < turns && !handed; t++) {
      const messageId = `${id}-m${t}`;
      yield ev({
        case: 'customerMessageReceived',
        value: {
          messageId,
          channel,
          externalConversationId: id,
          customerId: `cust-${n}`,
          text: 'question',
          locale,
          accountId: account,
        },
      });
      const confidence = rnd();
      yield ev({
        case: 'aiReplyProposed',
        value: {
          messageId,
          replyId: `${messageId}-r`,
          text: 'answer',
          confidence,
          topic,
          intent: `${topic}_question`,
        },
      });
      smoothed = Math.max(-1, Math.min(1, smoothed + (rnd() - 0.6) * 0.5));
      yield ev({
        case: 'messageScored',
        value: {
          messageId,
          valence: smoothed,
          label: smoothed < -0.3 ? 'negative' : 'neutral',
          trajectory: {
            smoothed,
            start: 0.1,
            change: smoothed - 0.1,
            shift: smoothed < -0.4,
            messages: t + 1,
          },
        },
      });
      if (confidence < 0.25 || smoothed < -0.5) {
        handed = true;
        const [rule, threshold] = pick(RULES);
        const handoffId = `${id}-h`;
        yield ev({
          case: 'handoffRequested',
          value: {
            handoffId,
            messageId,
            triggers: [
              { rule, value: rule === 'low_confidence' ? confidence : smoothed, threshold },
            ],
            priority: Priority.NORMAL,
            language: locale,
            policyVersion: 'default-4',
            briefing: { topic, channel, accountId: account, account: accountMsg, language: locale },
          },
        });
        if (rnd() < 0.9) {
          yield ev({
            case: 'agentAssigned',
            value: {
              handoffId,
              agentId: `agent-${Math.floor(rnd() * 20)}`,
              agentName: 'Agent',
              team: 'support',
            },
          });
          yield ev({
            case: 'agentAccepted',
            value: { handoffId, agentId: 'agent', actionId: `${handoffId}-a` },
          });
          yield ev({
            case: 'agentReplied',
            value: {
              handoffId,
              agentId: 'agent',
              agentName: 'Agent',
              messageId: `${handoffId}-reply`,
              text: 'reply',
            },
          });
          if (rnd() < 0.15)
            yield ev({ case: 'falseEscalationMarked', value: { handoffId, agentId: 'agent' } });
          yield ev({
            case: 'conversationResolved',
            value: { resolution: Resolution.HUMAN, resolvedBy: 'agent' },
          });
        }
      } else {
        yield ev({
          case: 'aiReplyReleased',
          value: {
            messageId,
            replyId: `${messageId}-r`,
            text: 'answer',
            confidence,
            policyVersion: 'default-4',
            context: { account: accountMsg },
          },
        });
      }
    }
    if (!handed) {
      const assumed = rnd() < 0.5;
      yield ev({
        case: 'conversationResolved',
        value: {
          resolution: Resolution.AI,
          resolvedBy: assumed ? 'quiet_window' : 'customer',
          assumed,
        },
      });
    }
    if (rnd() < 0.6) {
      yield ev({ case: 'csatRequested', value: { requestId: `${id}-csat`, channel } });
      if (rnd() < 0.5)
        yield ev({
          case: 'csatRated',
          value: { requestId: `${id}-csat`, score: 1 + Math.floor(rnd() * 5) },
        });
    }
  }
}
