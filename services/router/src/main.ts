import 'reflect-metadata';
import { JsonLogger, runService } from '@support/service-kit';
import { AppModule } from './app.module.js';
import { loadRouterConfig, SERVICE } from './config.js';

async function main(): Promise<void> {
  const config = loadRouterConfig();
  const logger = new JsonLogger(SERVICE, config.LOG_LEVEL);
  if (config.ROUTER_API_KEYS.length === 0)
    logger.warn('ROUTER_API_KEYS is empty: GET /v1/agents refuses every request');
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
