import 'reflect-metadata';
import { JsonLogger, runService } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadMetricsConfig, SERVICE } from './config.js';

async function main(): Promise<void> {
  const config = loadMetricsConfig();
  const logger = new JsonLogger(SERVICE, config.LOG_LEVEL);
  await runService(AppModule.create(config, logger), {
    service: SERVICE,
    host: config.HOST,
    port: config.PORT,
    logger,
  });
}

main().catch((err: Error) => {
  console.error(JSON.stringify({ level: 'fatal', service: SERVICE, msg: err.message }));
  process.exit(1);
});
