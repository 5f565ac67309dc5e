import { EMOTION_MODEL } from './emotion-model.js';
import { emotionFeatures, readEmotions, type EmotionModel, type Emotions } from './emotions.js';
import { frustrationScore } from './frustration.js';
import { signalsOf, type Signal } from './signals.js';
import { repeatOf, trajectoryOf, type ScoredMessage, type Trajectory } from './trajectory.js';
import { vaderFeatures, valenceOf, type Label } from './valence.js';

export { labelOf, NEUTRAL_BAND, valenceOf, type Label } from './valence.js';

export interface MessageScore {
  /** -1 (very negative) .. +1 (very positive): VADER, sentence by sentence. */
  valence: number;
  /** The learned sentiment head's label (sentence vector and VADER together). */
  label: Label;
  signals: Signal[];
  /** How frustrated the customer sounds, 0..1: the learned score with the signals (frustration.ts). */
  frustration: number;
  /** What the learned heads read, before any signal. */
  emotions: Emotions;
}

/**
 * Scores one customer message from its text and its sentence vector (from the
 * encoder the model was trained with): valence, label, support signals and
 * frustration.
 */
export function scoreMessage(
  text: string,
  vector: ArrayLike<number>,
  model: EmotionModel = EMOTION_MODEL,
): MessageScore {
  const valence = valenceOf(text);
  const emotions = readEmotions(model, emotionFeatures(vector, vaderFeatures(text, valence)));
  const signals = signalsOf(text);
  return {
    valence,
    label: emotions.label,
    signals,
    frustration: frustrationScore(emotions.frustration, signals),
    emotions,
  };
}

export interface ConversationScore extends MessageScore {
  trajectory: Trajectory;
  repeats?: { messageId: string; similarity: number };
}

/**
 * Scores a customer message in its conversation: the message's own score,
 * the trajectory through it, and the earlier message it repeats; a repeat
 * and a shift join the signals, and a repeat the frustration.
 */
export function scoreInConversation(
  earlier: ScoredMessage[],
  current: { messageId: string; text: string; vector: ArrayLike<number> },
  model: EmotionModel = EMOTION_MODEL,
): ConversationScore {
  const own = scoreMessage(current.text, current.vector, model);
  const repeats = repeatOf(earlier, current.text);
  const signals: Signal[] = [...own.signals];
  if (repeats) signals.push('repetition');
  const frustration = frustrationScore(own.emotions.frustration, signals);
  const trajectory = trajectoryOf(earlier, {
    messageId: current.messageId,
    text: current.text,
    valence: own.valence,
    frustration,
  });
  if (trajectory.shift) signals.push('sentiment_shift');
  return { ...own, signals, frustration, trajectory, ...(repeats ? { repeats } : {}) };
}
