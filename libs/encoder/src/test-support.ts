// Helpers shared by the specs (not exported from the package).

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'i',
  'forgot',
  'my',
  'password',
  'reset',
  'log',
  'in',
  'can',
  "'",
  't',
  'the',
  '##s',
  '!',
];

/**
 * A tokenizer.json of the BERT kind the models use (lower-casing normaliser,
 * BERT pre-tokeniser, WordPiece, the [CLS] … [SEP] template), with a vocabulary
 * of a few words: ids 0-4 are the special tokens, then `WORDS` in order.
 */
export function tinyBertTokenizerJson(): object {
  const vocab = Object.fromEntries([...SPECIALS, ...WORDS].map((t, i) => [t, i]));
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** The id of a token in `tinyBertTokenizerJson`. */
export function tinyId(token: string): number {
  const i = [...SPECIALS, ...WORDS].indexOf(token);
  if (i < 0) throw new Error(`${token} is not in the tiny vocabulary`);
  return i;
}
