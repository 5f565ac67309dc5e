import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { MetricsController, ReadKeyGuard } from './adapters/http.controller.js';
import { DeciderClient } from './adapters/decider.client.js';
import { MetricsGauges, ReadModelService } from './adapters/read-model.service.js';
import { AlertPublisher } from './adapters/alerts.js';
import { InsightsService } from './adapters/insights.js';
import { KnowledgeGaps } from './adapters/knowledge-gaps.js';

@Module({})
export class AppModule {
  static create(config: Config, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      // Reads need a key when METRICS_API_KEYS names some; the what-if always does.
      imports: [
        ServiceKitModule.forRoot({
          service: SERVICE,
          config,
          logger,
          apiKeys: config.METRICS_API_KEYS,
        }),
        // openapi.yaml beside src/ and dist/; also at its first address, /v1/metrics/openapi.json.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml'), ['v1/metrics/openapi.json']),
      ],
      controllers: [MetricsController],
      providers: [
        ReadModelService,
        MetricsGauges,
        DeciderClient,
        ReadKeyGuard,
        InsightsService,
        AlertPublisher,
        KnowledgeGaps,
      ],
    };
  }
}
