import { serviceMain } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadDeciderConfig, SERVICE } from './config.js';

serviceMain(SERVICE, loadDeciderConfig, (config, logger) => AppModule.create(config, logger));
