import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { ScorerService } from './adapters/scorer.service.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot({ service: SERVICE, config, logger })],
      providers: [ScorerService],
    };
  }
}
