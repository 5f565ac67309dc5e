// First: tracing must start before the instrumented modules (http, express, pg, ioredis) load.
import './tracing.js';
import { serviceMain } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadRouterConfig, SERVICE } from './config.js';

serviceMain(
  SERVICE,
  loadRouterConfig,
  (config, logger) => AppModule.create(config, logger),
  (config, logger) => {
    if (config.ROUTER_API_KEYS.length === 0)
      logger.warn('ROUTER_API_KEYS is empty: GET /v1/agents refuses every request');
  },
);
