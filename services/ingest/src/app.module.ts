import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { IngestController } from './adapters/http.controller.js';
import { IngestService } from './adapters/ingest.service.js';
import { OutboundHistory } from './adapters/outbound-history.js';
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
      providers: [IngestService, OutboundHistory],
    };
  }
}
