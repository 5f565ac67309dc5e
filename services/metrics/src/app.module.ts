import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { MetricsController } from './adapters/http.controller.js';
import { ReadModelService } from './adapters/read-model.service.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      // The summary API is read-only and needs no key.
      imports: [ServiceKitModule.forRoot({ service: SERVICE, config, logger, apiKeys: [] })],
      controllers: [MetricsController],
      providers: [ReadModelService],
    };
  }
}
