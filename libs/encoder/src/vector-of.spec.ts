import { vectorOf } from './shared';

/** An encoder that says what it embedded. */
function fakeEncoder(name = 'mini@1', dimensions = 3) {
  const embedded: string[] = [];
  return {
    embedded,
    encoder: {
      name,
      dimensions,
      embed: async (texts: string[]) => {
        embedded.push(...texts);
        return texts.map(() => new Float32Array(dimensions).fill(0.5));
      },
    },
  };
}

describe('a message vector made elsewhere', () => {
  it('is taken as it is when this encoder made it: the text is not embedded again', async () => {
    const { encoder, embedded } = fakeEncoder();
    const v = await vectorOf(encoder, 'hello', { model: 'mini@1', values: [0.1, 0.2, 0.3] });
    expect(Array.from(v)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(embedded).toEqual([]);
  });

  it('is ignored when another model made it, or it has other dimensions: the text is embedded', async () => {
    const { encoder, embedded } = fakeEncoder();
    await vectorOf(encoder, 'other model', { model: 'bge@2', values: [0.1, 0.2, 0.3] });
    await vectorOf(encoder, 'short', { model: 'mini@1', values: [0.1, 0.2] });
    await vectorOf(encoder, 'none');
    expect(embedded).toEqual(['other model', 'short', 'none']);
  });
});
