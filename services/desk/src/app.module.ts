import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { DeskPublisher } from './adapters/actions.js';
import { AnalyticsController } from './adapters/analytics.controller.js';
import { DeskDatabase } from './adapters/db/store.js';
import { DeskController } from './adapters/desk.controller.js';
import { GatewayController } from './adapters/gateway.controller.js';
import { KnowledgeSuggestions } from './adapters/knowledge.js';
import { KnowledgeController } from './adapters/knowledge.controller.js';
import { DeskReadModel } from './adapters/read-model.js';
import { SessionGuard, Sessions } from './adapters/session.js';
import { WebAppController } from './adapters/web.js';
import { WebhookService } from './adapters/webhooks.js';

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
          apiKeys: config.DESK_API_KEYS,
        }),
      ],
      // The web app's catch-all comes last.
      controllers: [
        DeskController,
        GatewayController,
        AnalyticsController,
        KnowledgeController,
        WebAppController,
      ],
      providers: [
        DeskDatabase,
        Sessions,
        SessionGuard,
        DeskReadModel,
        DeskPublisher,
        WebhookService,
        KnowledgeSuggestions,
      ],
    };
  }
}
