import { serviceMain } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadMetricsConfig, SERVICE } from './config.js';

serviceMain(SERVICE, loadMetricsConfig, (config, logger) => AppModule.create(config, logger));
