// GoEmotions (Demszky et al., ACL 2020) as the emotion training and evaluation read it: the splits
// in ../shared/data/goemotions (TSV: text, comma-separated label ids, comment id), the label
// names, and the groupings published with the data set (google-research/goemotions:
// ekman_mapping.json, sentiment_mapping.json), from which the targets of the scorer's heads are
// made. Reads the data in place; nothing of it is written anywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The emotions whose union is "frustrated" for the support desk. */
export const FRUSTRATION = ['anger', 'annoyance', 'disappointment', 'disapproval'];

/** Ekman's six basic emotions and neutral (ekman_mapping.json; neutral is its own class). */
export const EKMAN = {
  anger: ['anger', 'annoyance', 'disapproval'],
  disgust: ['disgust'],
  fear: ['fear', 'nervousness'],
  joy: [
    'joy',
    'amusement',
    'approval',
    'excitement',
    'gratitude',
    'love',
    'optimism',
    'relief',
    'pride',
    'admiration',
    'desire',
    'caring',
  ],
  neutral: ['neutral'],
  sadness: ['sadness', 'disappointment', 'embarrassment', 'grief', 'remorse'],
  surprise: ['surprise', 'realization', 'confusion', 'curiosity'],
};

/** sentiment_mapping.json (ambiguous: realization, surprise, curiosity, confusion). */
export const SENTIMENT_GROUPS = {
  positive: [
    'amusement',
    'excitement',
    'joy',
    'love',
    'desire',
    'optimism',
    'caring',
    'pride',
    'admiration',
    'gratitude',
    'relief',
    'approval',
  ],
  negative: [
    'fear',
    'nervousness',
    'remorse',
    'embarrassment',
    'disappointment',
    'sadness',
    'grief',
    'disgust',
    'anger',
    'annoyance',
    'disapproval',
  ],
};

export const SENTIMENT = ['negative', 'neutral', 'positive'];

/** The GoEmotions folder, or null when it is absent. */
export function goEmotionsDir(dataDir) {
  const dir = join(dataDir, 'goemotions');
  return existsSync(join(dir, 'labels.txt')) ? dir : null;
}

/** One split as { text, emotions: Set of names } rows. */
export function readSplit(dir, split) {
  const names = readFileSync(join(dir, 'labels.txt'), 'utf8').split('\n').filter(Boolean);
  return readFileSync(join(dir, `${split}.tsv`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const [text, ids] = line.split('\t');
      const emotions = new Set(
        ids.split(',').map((id) => {
          const name = names[Number(id)];
          if (!name) throw new Error(`goemotions ${split}.tsv line ${i + 1}: unknown label ${id}`);
          return name;
        }),
      );
      return { text, emotions };
    });
}

const any = (row, names) => names.some((n) => row.emotions.has(n));

/** 1 when the raters heard any frustration emotion, else 0. */
export const isFrustrated = (row) => (any(row, FRUSTRATION) ? 1 : 0);

/** 1 when the row has an emotion of Ekman class `c`. */
export const hasEkman = (row, c) => (any(row, EKMAN[c]) ? 1 : 0);

/**
 * The row's 3-class sentiment (0 negative, 1 neutral, 2 positive): negative or positive
 * emotions alone give their class, neutral or only ambiguous ones neutral; -1 for a row with
 * both positive and negative emotions (left out of the sentiment head's training and figures).
 */
export function sentimentOf(row) {
  const positive = any(row, SENTIMENT_GROUPS.positive);
  const negative = any(row, SENTIMENT_GROUPS.negative);
  if (positive && negative) return -1;
  return negative ? 0 : positive ? 2 : 1;
}
