// First: tracing must start before the instrumented modules (http, express, pg, ioredis) load.
import './tracing.js';
import { serviceMain } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadMetricsConfig, SERVICE } from './config.js';

serviceMain(SERVICE, loadMetricsConfig, (config, logger) => AppModule.create(config, logger));
