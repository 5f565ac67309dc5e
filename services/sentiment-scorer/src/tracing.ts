/**
 * Imported first by main.ts: tracing starts (when an OTLP endpoint is configured, see
 * @support/telemetry) before the modules it instruments are loaded.
 */
import { startTracing } from '@support/telemetry';

startTracing('sentiment-scorer');
