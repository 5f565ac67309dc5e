import { Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, ServiceKitModule, SnapshotStore, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { Closer } from './adapters/closer.js';
import { DeskActionsConsumer } from './adapters/desk-actions.consumer.js';
import { IngestController } from './adapters/http.controller.js';
import { IngestService } from './adapters/ingest.service.js';
import { OutboundHistory } from './adapters/outbound-history.js';
import { QuietWindow } from './adapters/quiet-window.js';
import { WebChatController } from './adapters/web-chat.controller.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({
          service: SERVICE,
          config,
          logger,
          apiKeys: config.INGEST_API_KEYS,
        }),
      ],
      controllers: [IngestController, WebChatController],
      providers: [
        // Ingest's snapshots of the log: fed by IngestService's log consumer, read by the HTTP API and the desk actions.
        {
          provide: SnapshotStore,
          useFactory: (redis: Redis) => new SnapshotStore(redis, SERVICE),
          inject: [REDIS],
        },
        Closer,
        QuietWindow,
        IngestService,
        OutboundHistory,
        DeskActionsConsumer,
      ],
    };
  }
}
