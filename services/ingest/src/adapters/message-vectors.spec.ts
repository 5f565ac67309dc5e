import { JsonLogger } from '@support/service-kit';
import type { Config } from '../config';
import { MAX_EMBEDDING, MessageVectors, type MessageEncoder } from './message-vectors';

/** An encoder whose runs end when the test says so, and that counts the texts it was given. */
function heldEncoder() {
  const runs: { texts: string[]; finish: (ok: boolean) => void }[] = [];
  const encoder: MessageEncoder = {
    name: 'mini@1',
    embed: (texts) =>
      new Promise((resolve, reject) =>
        runs.push({
          texts,
          finish: (ok) =>
            ok
              ? resolve(texts.map((t) => new Float32Array([t.length, 1])))
              : reject(new Error('onnx failed')),
        }),
      ),
  };
  return { encoder, runs };
}

function vectors(encoder?: MessageEncoder): MessageVectors {
  const v = new MessageVectors(
    { INGEST_MESSAGE_VECTORS: 'local' } as Config,
    new JsonLogger('ingest', 'error'),
  );
  if (encoder) v.use(encoder);
  return v;
}

describe("ingest's message vectors", () => {
  it('embeds messages and names the encoder that made each vector', async () => {
    const { encoder, runs } = heldEncoder();
    const pending = vectors(encoder).of(['hello', 'hi']);
    runs[0].finish(true);
    expect(await pending).toEqual([
      { model: 'mini@1', values: [5, 1] },
      { model: 'mini@1', values: [2, 1] },
    ]);
  });

  it('sends messages without vectors, and without waiting, while there is no encoder or it fails', async () => {
    expect(await vectors().of(['no encoder yet'])).toEqual([undefined]);
    const { encoder, runs } = heldEncoder();
    const failing = vectors(encoder).of(['a']);
    runs[0].finish(false);
    expect(await failing).toEqual([undefined]);
  });

  it('lets a burst past its encoder: beyond what is being embedded, messages go out without vectors', async () => {
    const { encoder, runs } = heldEncoder();
    const v = vectors(encoder);
    const first = v.of(Array.from({ length: MAX_EMBEDDING }, (_, i) => `m${i}`));
    // The encoder is full: the next message is not handed to it.
    expect(await v.of(['one more'])).toEqual([undefined]);
    expect(runs).toHaveLength(1);
    runs[0].finish(true);
    expect((await first).every((x) => x?.model === 'mini@1')).toBe(true);
    // Once those are done, messages are embedded again.
    const next = v.of(['later']);
    expect(runs).toHaveLength(2);
    runs[1].finish(true);
    expect(await next).toEqual([{ model: 'mini@1', values: [5, 1] }]);
  });
});
