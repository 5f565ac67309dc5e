export interface BusLogger {
  log(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export const consoleLogger: BusLogger = {
  log: (m, c) => console.log(JSON.stringify({ level: 'info', msg: m, ...c })),
  warn: (m, c) => console.warn(JSON.stringify({ level: 'warn', msg: m, ...c })),
  error: (m, c) => console.error(JSON.stringify({ level: 'error', msg: m, ...c })),
};
