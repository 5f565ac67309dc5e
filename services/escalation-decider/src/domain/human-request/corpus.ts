// The corpus the classifier learns from (services/escalation-decider/corpus/
// human-request/): plain text, one message per line, '#' starting a comment;
// files under requests/ ask for a person, files under not-requests/ do not.
import { createHash } from 'node:crypto';

export interface CorpusFile {
  /** Path relative to the corpus folder, with '/' separators: `requests/direct.txt`. */
  path: string;
  text: string;
}

export interface CorpusExample {
  text: string;
  request: boolean;
  /** `<file>:<line>`, for reports. */
  source: string;
}

const LABEL_FOLDERS: Record<string, boolean> = { requests: true, 'not-requests': false };

/** The examples of the corpus's files, in path order; a file outside the two folders is an error. */
export function corpusExamples(files: readonly CorpusFile[]): CorpusExample[] {
  const examples: CorpusExample[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const folder = file.path.split('/')[0];
    const request = LABEL_FOLDERS[folder];
    if (request === undefined)
      throw new Error(`corpus file ${file.path}: must be under requests/ or not-requests/`);
    file.text.split('\n').forEach((raw, i) => {
      const text = raw.trim();
      if (text && !text.startsWith('#'))
        examples.push({ text, request, source: `${file.path}:${i + 1}` });
    });
  }
  return examples;
}

/**
 * SHA-256 of the corpus: every file's path and content, in path order. The
 * trained model records it, and a test fails when the corpus has changed since.
 */
export function corpusSha256(files: readonly CorpusFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1)))
    hash.update(file.path).update('\0').update(file.text.replace(/\r\n/g, '\n')).update('\0');
  return hash.digest('hex');
}
