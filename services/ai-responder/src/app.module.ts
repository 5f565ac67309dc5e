import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { databaseProvider } from './adapters/db/database.js';
import { KnowledgeBase } from './adapters/db/knowledge-base.js';
import { ResponderService } from './adapters/responder.service.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot({ service: SERVICE, config, logger })],
      providers: [databaseProvider, KnowledgeBase, ResponderService],
    };
  }
}
