import type { LoggerService } from '@nestjs/common';
import type { BusLogger } from '@support/bus';
import { activeTraceIds } from '@support/telemetry';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type Level = keyof typeof LEVELS;

/**
 * Structured JSON logs, one line each, with the service name, the trace and span ids when
 * tracing is on, and whatever context (conversation id, correlation id) the caller passes.
 */
export class JsonLogger implements LoggerService, BusLogger {
  constructor(
    private readonly service: string,
    private readonly level: Level = 'info',
  ) {}

  private write(level: Level, msg: unknown, context?: unknown): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const extra =
      typeof context === 'object' && context !== null ? context : context ? { context } : {};
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      service: this.service,
      msg: String(msg),
      // With tracing on, the line names the trace and span it was written in.
      ...activeTraceIds(),
      ...extra,
    });
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line + '\n');
  }

  log(message: unknown, context?: unknown): void {
    this.write('info', message, context);
  }
  warn(message: unknown, context?: unknown): void {
    this.write('warn', message, context);
  }
  error(message: unknown, context?: unknown): void {
    this.write('error', message, context);
  }
  debug(message: unknown, context?: unknown): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: unknown): void {
    this.write('debug', message, context);
  }
}
