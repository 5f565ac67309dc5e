/** Checks for extra dependencies (e.g. PostgreSQL) that /health runs beside Kafka and Redis. */
export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
}

const checks = new Map<string, HealthCheck>();

/** Adds a check to /health; a later check of the same name replaces the earlier one. */
export function registerHealthCheck(check: HealthCheck): void {
  checks.set(check.name, check);
}

export function healthChecks(): HealthCheck[] {
  return [...checks.values()];
}
