import { tinyBertTokenizerJson, tinyId } from './test-support.js';
import { TextTokenizer } from './tokenize.js';

describe('TextTokenizer', () => {
  it('encodes with the template of tokenizer.json and decodes back to the normalised text', async () => {
    const tokenizer = await TextTokenizer.fromJson(tinyBertTokenizerJson(), 32);
    const ids = tokenizer.encode('I forgot my PASSWORD!');
    expect(ids).toEqual(['[CLS]', 'i', 'forgot', 'my', 'password', '!', '[SEP]'].map(tinyId));
    expect(tokenizer.decode(ids)).toBe('i forgot my password!');
  });

  it('splits into word pieces and maps unknown words to [UNK]', async () => {
    const tokenizer = await TextTokenizer.fromJson(tinyBertTokenizerJson(), 32);
    expect(tokenizer.encode("I can't log in, passwords")).toEqual(
      ['[CLS]', 'i', 'can', "'", 't', 'log', 'in', '[UNK]', 'password', '##s', '[SEP]'].map(tinyId),
    );
  });

  it('cuts a long text to maxTokens, keeping the closing special token', async () => {
    const tokenizer = await TextTokenizer.fromJson(tinyBertTokenizerJson(), 5);
    const ids = tokenizer.encode('i forgot my password reset the password');
    expect(ids).toEqual(['[CLS]', 'i', 'forgot', 'my', '[SEP]'].map(tinyId));
    expect(tokenizer.encode('')).toEqual(['[CLS]', '[SEP]'].map(tinyId));
  });

  it('pads a batch to its longest text, with a mask of the real tokens', async () => {
    const tokenizer = await TextTokenizer.fromJson(tinyBertTokenizerJson(), 32);
    const batch = tokenizer.pad([
      [2, 5, 3],
      [2, 5, 6, 7, 3],
    ]);
    expect([batch.batch, batch.length]).toEqual([2, 5]);
    expect(Array.from(batch.inputIds, Number)).toEqual([2, 5, 3, 0, 0, 2, 5, 6, 7, 3]);
    expect(Array.from(batch.attentionMask, Number)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(batch.tokenTypeIds, Number)).toEqual(new Array(10).fill(0));
  });
});
