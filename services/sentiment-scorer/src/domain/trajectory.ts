import type { TrajectoryView } from '@support/conversation';
import { stemSimilarity } from '@support/text';

/** One earlier customer message as the scorer saw it. */
export interface ScoredMessage {
  messageId: string;
  text: string;
  /** Undefined when it was never scored. */
  valence?: number;
  /** Undefined when it was never scored, or scored before the frustration score existed. */
  frustration?: number;
}

/** The conversation's sentiment through a message, as the conversation model keeps it. */
export type Trajectory = TrajectoryView;

/** Weight of the newest message in the smoothed valence. */
export const SMOOTHING = 0.5;
/** A shift: the smoothed valence at least this far below the start... */
export const SHIFT_DROP = 0.4;
/** ...and below this. */
export const SHIFT_FLOOR = -0.2;

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * The conversation's sentiment through this message: valences smoothed
 * exponentially, the change from the first message, the message where the
 * smoothed value fell the most, and whether that adds up to a shift.
 */
export function trajectoryOf(earlier: ScoredMessage[], current: ScoredMessage): Trajectory {
  const series = [...earlier.filter((m) => m.valence !== undefined), current];
  let smoothed = series[0].valence ?? 0;
  const start = smoothed;
  let steepest = 0;
  let turnedAt = '';
  for (let i = 1; i < series.length; i++) {
    const next = SMOOTHING * (series[i].valence ?? 0) + (1 - SMOOTHING) * smoothed;
    if (next - smoothed < steepest) {
      steepest = next - smoothed;
      turnedAt = series[i].messageId;
    }
    smoothed = next;
  }
  const change = smoothed - start;
  return {
    smoothed: round(smoothed),
    start: round(start),
    change: round(change),
    turnedAtMessageId: change < 0 ? turnedAt : '',
    shift: change <= -SHIFT_DROP && smoothed <= SHIFT_FLOOR,
    messages: series.length,
    ...frustrationOf(earlier, current),
  };
}

/**
 * The messages' frustration smoothed from a calm start (0), the newest
 * weighing SMOOTHING: a customer frustrated at f from the first message gives
 * f/2, then 3f/4, then 7f/8; one outburst after calm turns counts half.
 * Absent when the current message has no frustration score.
 */
function frustrationOf(earlier: ScoredMessage[], current: ScoredMessage): { frustration?: number } {
  if (current.frustration === undefined) return {};
  let smoothed = 0;
  for (const m of [...earlier, current])
    if (m.frustration !== undefined)
      smoothed = SMOOTHING * m.frustration + (1 - SMOOTHING) * smoothed;
  return { frustration: round(smoothed) };
}

/** How alike a repeat must be to count (content-stem cosine). */
export const REPEAT_SIMILARITY = 0.6;

/**
 * The earlier message this one repeats or rephrases most closely, if any is
 * alike enough; messages of fewer than three content words repeat nothing
 * ("ok", "thanks").
 */
export function repeatOf(
  earlier: ScoredMessage[],
  text: string,
): { messageId: string; similarity: number } | undefined {
  let best: { messageId: string; similarity: number } | undefined;
  for (const m of earlier) {
    const similarity = stemSimilarity(text, m.text);
    if (similarity >= REPEAT_SIMILARITY && (!best || similarity > best.similarity))
      best = { messageId: m.messageId, similarity: round(similarity) };
  }
  if (!best) return undefined;
  return text.split(/\s+/).filter((w) => w.length > 2).length >= 3 ? best : undefined;
}
