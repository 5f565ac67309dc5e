import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { AuditTrail, OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import { SERVICE, type Config } from './config.js';
import { DeciderService } from './adapters/decider.service.js';
import { ReviewPublisher } from './adapters/review-publisher.js';
import { AccountDirectory } from './adapters/accounts.js';
import { DirectoryVocabularyStore } from './adapters/directory.js';
import { HumanRequestDetection } from './adapters/human-request.js';
import { AccountsController } from './adapters/accounts.controller.js';
import { AccountWriter } from './adapters/account-writer.js';
import { PolicyAdmin } from './adapters/policy-admin.service.js';
import { PolicyController } from './adapters/policy.controller.js';
import { PolicyStore } from './adapters/policy-store.js';
import { BriefingSummarizer } from './adapters/summary.js';
import { WhatIfController } from './adapters/whatif.controller.js';

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
          apiKeys: config.DECIDER_API_KEYS,
        }),
        // openapi.yaml beside src/ and dist/.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      controllers: [PolicyController, WhatIfController, AccountsController],
      providers: [
        AuditTrail,
        DirectoryVocabularyStore,
        PolicyStore,
        PolicyAdmin,
        AccountDirectory,
        AccountWriter,
        BriefingSummarizer,
        HumanRequestDetection,
        DeciderService,
        ReviewPublisher,
      ],
    };
  }
}
