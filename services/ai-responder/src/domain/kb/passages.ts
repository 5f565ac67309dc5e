import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

export interface PassageDraft {
  ordinal: number;
  /** The heading the passage sits under and those inside it, joined by " / "; "" when none. */
  heading: string;
  /** Markdown. */
  text: string;
}

export interface SplitOptions {
  /** Target passage size in characters. */
  chunkSize: number;
  chunkOverlap: number;
}

export const DEFAULT_SPLIT: SplitOptions = { chunkSize: 700, chunkOverlap: 80 };

/** Names the splitting rules; bump the last part when they change so that stored passages are re-split. */
export function splitterId(options: SplitOptions = DEFAULT_SPLIT): string {
  return `markdown-${options.chunkSize}-${options.chunkOverlap}-2`;
}

const HEADING = /^#{1,6}\s+(.+?)\s*#*\s*$/gm;

/**
 * Splits an article's Markdown body into passages with LangChain's Markdown
 * splitter (headings first, then paragraphs, lines, sentences), and tags each
 * with the heading it sits under so that retrieval can weigh it.
 */
export async function splitArticle(
  body: string,
  options: SplitOptions = DEFAULT_SPLIT,
): Promise<PassageDraft[]> {
  const splitter = RecursiveCharacterTextSplitter.fromLanguage('markdown', options);
  const chunks = (await splitter.splitText(body)).map((c) => c.trim()).filter(Boolean);
  const headings: { at: number; text: string }[] = [];
  for (const m of body.matchAll(HEADING)) headings.push({ at: m.index, text: m[1].trim() });
  let from = 0;
  return chunks.map((text, ordinal) => {
    const found = body.indexOf(text, Math.max(0, from - options.chunkOverlap));
    const at = found >= 0 ? found : from;
    from = at + text.length;
    // The heading the chunk sits under, and the headings inside it: what the passage is about.
    const above = headings.filter((h) => h.at <= at).at(-1);
    const inside = headings.filter((h) => h.at > at && h.at < at + text.length);
    const heading = [...(above ? [above] : []), ...inside].map((h) => h.text).join(' / ');
    return { ordinal, heading, text };
  });
}

/** Markdown as plain chat text: no heading marks, emphasis, code fences or link targets. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/^#{1,6}\s+(.+?)\s*#*\s*$/gm, '$1:')
    .replace(/```[a-z]*\n?/g, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(?<![\w*])[*_](\S(?:.*?\S)?)[*_](?![\w*])/g, '$1')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/^\s*[-*+]\s+/gm, '- ')
    .replace(/^\|?\s*:?-{3,}.*$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
