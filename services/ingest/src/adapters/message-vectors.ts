import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MessageVectorSchema } from '@support/contracts';
import { sentenceEncoder } from '@support/encoder';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';

export type MessageVectorInit = MessageInitShape<typeof MessageVectorSchema>;

/** What embeds texts: the process's sentence encoder, or a stand-in in tests. */
export interface TextEncoder {
  readonly name: string;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/**
 * Customer messages' sentence vectors, embedded once here, a batch of messages at a time, and
 * carried on CustomerMessageReceived: the AI responder and the sentiment scorer read them instead
 * of each running the encoder on the same text (INGEST_MESSAGE_VECTORS=local, the default).
 *
 * Nothing waits for the encoder: it loads after start-up, and until it has (or when it fails to
 * load or to embed) messages go out without a vector, and each service embeds the text itself.
 */
@Injectable()
export class MessageVectors implements OnApplicationBootstrap {
  private encoder?: TextEncoder;

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
  use(encoder: TextEncoder): void {
    this.encoder = encoder;
  }

  /** The texts' vectors, in order; none when there is no encoder or it failed. */
  async of(texts: string[]): Promise<(MessageVectorInit | undefined)[]> {
    const encoder = this.encoder;
    if (!encoder || texts.length === 0) return texts.map(() => undefined);
    try {
      const vectors = await encoder.embed(texts);
      return vectors.map((v) => ({ model: encoder.name, values: Array.from(v) }));
    } catch (err) {
      this.logger.warn('embedding messages failed: they go out without their vectors', {
        messages: texts.length,
        error: (err as Error).message,
      });
      return texts.map(() => undefined);
    }
  }
}
