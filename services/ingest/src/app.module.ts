import {
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { OpenApiModule, REDIS, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import { SnapshotStore } from '@support/stream';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { Closer } from './adapters/closer.js';
import { ConversationTokens } from './adapters/conversation-tokens.js';
import { DeskActionsConsumer } from './adapters/desk-actions.consumer.js';
import { IngestController } from './adapters/http.controller.js';
import { Appending } from './adapters/appending.js';
import { InboundAppender } from './adapters/inbound-appender.js';
import { IngestService } from './adapters/ingest.service.js';
import { Ratings } from './adapters/ratings.js';
import { ReadKeyGuard } from './adapters/keys.js';
import { OutboundHistory } from './adapters/outbound-history.js';
import { QuietWindow } from './adapters/quiet-window.js';
import { MessageVectors } from './adapters/message-vectors.js';
import { WebChatController } from './adapters/web-chat.controller.js';
import { WidgetController } from './adapters/widget.controller.js';
import { WidgetCorsMiddleware, WidgetGate } from './adapters/widget-gate.js';

@Module({})
export class AppModule implements NestModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: SERVICE,
          config,
          logger,
          // The channel keys: ApiKeyGuard admits them (widget keys are never among them).
          apiKeys: config.INGEST_API_KEYS,
        }),
        // openapi.yaml beside src/ and dist/.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      controllers: [IngestController, WidgetController, WebChatController],
      providers: [
        // Ingest's snapshots of the log: fed by IngestService's log consumer, read by the HTTP API and the desk actions.
        {
          provide: SnapshotStore,
          useFactory: (redis: Redis) => new SnapshotStore(redis, SERVICE),
          inject: [REDIS],
        },
        Closer,
        QuietWindow,
        MessageVectors,
        // What support.inbound records are appending now, and the done marks (appending.ts).
        {
          provide: Appending,
          useFactory: (redis: Redis) => new Appending(redis),
          inject: [REDIS],
        },
        Ratings,
        InboundAppender,
        IngestService,
        OutboundHistory,
        DeskActionsConsumer,
        ReadKeyGuard,
        WidgetGate,
        ConversationTokens,
      ],
    };
  }

  /** CORS (preflights and the origin allowlist) for the widget API only. */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(WidgetCorsMiddleware)
      .forRoutes({ path: 'v1/widget/{*path}', method: RequestMethod.ALL });
  }
}
