import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { AuditTrail, OpenApiModule, ServiceKitModule, type JsonLogger } from '@support/service-kit';
import type { Config } from './config.js';
import { SERVICE } from './config.js';
import { Roster } from './adapters/db/roster.js';
import { RouterController } from './adapters/http.controller.js';
import { LoadStore } from './adapters/load-store.js';
import { PresenceStore } from './adapters/presence.js';
import { PresenceFeed } from './adapters/presence-feed.js';
import { RouterPublisher } from './adapters/publisher.js';
import { QueueServer } from './adapters/queue-server.js';
import { AssignmentFollower } from './adapters/assignment-follower.js';
import { HandoffRouting } from './adapters/handoff-routing.js';
import { Releases } from './adapters/releases.js';
import { RouterService } from './adapters/router.service.js';
import { VocabularyController } from './adapters/vocabulary.controller.js';
import { VocabularyFeed } from './adapters/vocabulary-feed.js';

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
          apiKeys: config.ROUTER_API_KEYS,
        }),
        // openapi.yaml beside src/ and dist/.
        OpenApiModule.serve(join(__dirname, '..', 'openapi.yaml')),
      ],
      controllers: [RouterController, VocabularyController],
      providers: [
        Roster,
        LoadStore,
        PresenceStore,
        RouterPublisher,
        QueueServer,
        HandoffRouting,
        Releases,
        AssignmentFollower,
        RouterService,
        PresenceFeed,
        VocabularyFeed,
        AuditTrail,
      ],
    };
  }
}
