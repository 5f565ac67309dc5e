import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { ScorerService } from './adapters/scorer.service.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({ service: SERVICE, config, logger }),
        // openapi.yaml beside src/ and dist/.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      providers: [ScorerService],
    };
  }
}
