import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MessageVectorSchema } from '@support/contracts';
import { sentenceEncoder, type SentenceEncoder } from '@support/encoder';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';

export type MessageVectorInit = MessageInitShape<typeof MessageVectorSchema>;

/** What embeds the messages: the process's sentence encoder, or a stand-in in tests. */
export type MessageEncoder = Pick<SentenceEncoder, 'name' | 'embed'>;

/** Texts being embedded at most; a message that would wait behind more goes out without its vector. */
export const MAX_EMBEDDING = 32;

/**
 * Customer messages' sentence vectors, embedded once here, a batch of messages at a time, and
 * carried on CustomerMessageReceived: the AI responder and the sentiment scorer read them instead
 * of each running the encoder on the same text (INGEST_MESSAGE_VECTORS=local, the default).
 *
 * Nothing waits for the encoder: it loads after start-up, and until it has (or when it fails to
 * load or to embed) messages go out without a vector, and each service embeds the text itself.
 * A burst does not queue behind ingest's one encoder thread either: while MAX_EMBEDDING texts are
 * being embedded, the next messages go out at once without theirs, and the services downstream,
 * each with an encoder thread of its own, embed them side by side.
 */
@Injectable()
export class MessageVectors implements OnApplicationBootstrap {
  private encoder?: MessageEncoder;
  /** Texts handed to the encoder and not back yet. */
  private embedding = 0;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.INGEST_MESSAGE_VECTORS === 'none') return;
    void sentenceEncoder()
      .then((encoder) => this.use(encoder))
      .catch((err: Error) =>
        this.logger.warn('no sentence encoder: messages go out without their vectors', {
          error: err.message,
        }),
      );
  }

  /** Embeds with this encoder from now on. */
  use(encoder: MessageEncoder): void {
    this.encoder = encoder;
  }

  /** The texts' vectors, in order; none when there is no encoder or it failed. */
  async of(texts: string[]): Promise<(MessageVectorInit | undefined)[]> {
    const encoder = this.encoder;
    const busy = this.embedding + texts.length > MAX_EMBEDDING;
    if (!encoder || texts.length === 0 || busy) return texts.map(() => undefined);
    this.embedding += texts.length;
    try {
      const vectors = await encoder.embed(texts);
      return vectors.map((v) => ({ model: encoder.name, values: Array.from(v) }));
    } catch (err) {
      this.logger.warn('embedding messages failed: they go out without their vectors', {
        messages: texts.length,
        error: (err as Error).message,
      });
      return texts.map(() => undefined);
    } finally {
      this.embedding -= texts.length;
    }
  }
}
