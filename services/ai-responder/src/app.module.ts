import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { AuditTrail, OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { classifierProvider } from './adapters/classifier.js';
import { databaseProvider } from './adapters/db/database.js';
import { KnowledgeBase } from './adapters/db/knowledge-base.js';
import { KbStartup } from './adapters/db/seed.js';
import { embedderProvider } from './adapters/embeddings.js';
import { KnowledgeBaseController } from './adapters/kb.controller.js';
import { LearningService } from './adapters/learning.service.js';
import { ResolutionMatcher } from './adapters/resolution-matcher.js';
import { SuggestionsService } from './adapters/suggestions.service.js';
import { KnowledgeOutbox } from './adapters/db/outbox.js';
import { ResponderService } from './adapters/responder.service.js';
import { SuggestionsController } from './adapters/suggestions.controller.js';

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
          apiKeys: config.AI_RESPONDER_API_KEYS,
        }),
        // openapi.yaml beside src/ and dist/.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      controllers: [KnowledgeBaseController, SuggestionsController],
      providers: [
        databaseProvider,
        embedderProvider,
        classifierProvider,
        KnowledgeOutbox,
        KnowledgeBase,
        LearningService,
        SuggestionsService,
        ResolutionMatcher,
        KbStartup,
        ResponderService,
        AuditTrail,
      ],
    };
  }
}
