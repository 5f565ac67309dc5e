import { Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { join } from 'node:path';
import { AuditTrail, OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { DeskPublisher } from './adapters/actions.js';
import { AdminController } from './adapters/admin.controller.js';
import { AnalyticsController } from './adapters/analytics.controller.js';
import { AuditLog } from './adapters/audit.js';
import { DeskDatabase } from './adapters/db/store.js';
import { DeskController } from './adapters/desk.controller.js';
import { GatewayController } from './adapters/gateway.controller.js';
import { KnowledgeSuggestions } from './adapters/knowledge.js';
import { KnowledgeController } from './adapters/knowledge.controller.js';
import { DeskReadModel } from './adapters/read-model.js';
import { SessionController } from './adapters/session.controller.js';
import { SessionGuard, Sessions } from './adapters/session.js';
import { SignInThrottle } from './adapters/sign-in-throttle.js';
import { WebAppController } from './adapters/web.js';
import { WebhookService } from './adapters/webhooks.js';

/** Express's `trust proxy` from DESK_TRUST_PROXY: which X-Forwarded-For hops name the client. */
class TrustProxy implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly setting: Config['DESK_TRUST_PROXY'],
  ) {}

  onModuleInit(): void {
    const app = this.host.httpAdapter?.getInstance() as
      { set?: (name: string, value: unknown) => void } | undefined;
    app?.set?.('trust proxy', this.setting);
  }
}

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
        // openapi.yaml beside src/ and dist/ (the web app's catch-all leaves /v1 to it).
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      // The web app's catch-all comes last.
      controllers: [
        SessionController,
        DeskController,
        GatewayController,
        AdminController,
        AnalyticsController,
        KnowledgeController,
        WebAppController,
      ],
      providers: [
        DeskDatabase,
        Sessions,
        SessionGuard,
        SignInThrottle,
        DeskReadModel,
        DeskPublisher,
        WebhookService,
        KnowledgeSuggestions,
        AuditTrail,
        AuditLog,
        {
          provide: TrustProxy,
          inject: [HttpAdapterHost],
          useFactory: (host: HttpAdapterHost) => new TrustProxy(host, config.DESK_TRUST_PROXY),
        },
      ],
    };
  }
}
