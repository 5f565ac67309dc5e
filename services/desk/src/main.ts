// First: tracing must start before the instrumented modules (http, express, pg, ioredis) load.
import './tracing.js';
import { serviceMain } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadDeskConfig, SERVICE } from './config.js';

serviceMain(
  SERVICE,
  loadDeskConfig,
  (config, logger) => AppModule.create(config, logger),
  (config, logger) => {
    if (config.DESK_API_KEYS.length === 0)
      logger.warn('DESK_API_KEYS is empty: the gateway and admin API refuse every request');
  },
);
