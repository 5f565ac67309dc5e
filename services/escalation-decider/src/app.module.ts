import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule, type JsonLogger } from '@support/service-kit';
import { SERVICE, type Config } from './config.js';
import { DeciderService } from './adapters/decider.service.js';
import { PolicyStore } from './adapters/policy-store.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot({ service: SERVICE, config, logger })],
      providers: [PolicyStore, DeciderService],
    };
  }
}
