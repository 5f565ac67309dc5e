import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOpenAI } from '@langchain/openai';
import { tracingEnabled } from '@support/telemetry';
import { z } from 'zod';
import { ModelCallSpans } from './tracing.js';

export { ModelCallSpans } from './tracing.js';

/**
 * The chat-model settings every service that writes with a model shares
 * (the AI responder's answers, the decider's briefing summaries). With
 * LLM_PROVIDER=extractive (the default) no model is used and nothing leaves
 * the machine.
 */
export const llmConfigSchema = z.object({
  /** Who writes: the offline extractive path, or a chat model through LangChain. */
  LLM_PROVIDER: z.enum(['extractive', 'openai', 'anthropic']).default('extractive'),
  /** e.g. gpt-4o-mini, llama3.1 (Ollama), claude-3-5-haiku-latest. */
  LLM_MODEL: z.string().default(''),
  /** An OpenAI-compatible server (Ollama, vLLM, llama.cpp) or an Anthropic proxy, e.g. http://127.0.0.1:11434/v1. */
  LLM_BASE_URL: z.string().default(''),
  /** Falls back to OPENAI_API_KEY or ANTHROPIC_API_KEY. */
  LLM_API_KEY: z.string().default(''),
  /** Per attempt; a timed-out model leads to the extractive path, flagged, never a hang. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
});

export type LlmConfig = z.infer<typeof llmConfigSchema>;

export interface ConfiguredModel {
  /** e.g. "openai:gpt-4o-mini". */
  name: string;
  model: BaseChatModel;
  /** A hard deadline over all attempts and the pauses between them. */
  deadlineMs: number;
  /** One attempt's timeout. */
  attemptTimeoutMs: number;
}

/** The longest pause LangChain's retry makes between attempts (exponential backoff, capped). */
const RETRY_PAUSE_MS = 4000;

/** The chat model the configuration names, or undefined when it names none (extractive). */
export function configuredChatModel(config: LlmConfig): ConfiguredModel | undefined {
  if (config.LLM_PROVIDER === 'extractive') return undefined;
  const modelName =
    config.LLM_MODEL ||
    (config.LLM_PROVIDER === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest');
  const common = {
    temperature: 0,
    maxRetries: config.LLM_MAX_RETRIES,
    // A span per model call when tracing is on (nothing otherwise).
    ...(tracingEnabled()
      ? { callbacks: [new ModelCallSpans(config.LLM_PROVIDER, modelName)] }
      : {}),
  };
  // Every attempt may use its whole timeout, and LangChain waits up to a few seconds before each retry.
  const deadlineMs =
    config.LLM_TIMEOUT_MS * (config.LLM_MAX_RETRIES + 1) +
    config.LLM_MAX_RETRIES * RETRY_PAUSE_MS +
    500;
  const attemptTimeoutMs = config.LLM_TIMEOUT_MS;
  if (config.LLM_PROVIDER === 'openai') {
    const model = new ChatOpenAI({
      ...common,
      model: modelName,
      apiKey: config.LLM_API_KEY || process.env.OPENAI_API_KEY || 'not-needed',
      timeout: config.LLM_TIMEOUT_MS,
      useResponsesApi: false,
      configuration: config.LLM_BASE_URL ? { baseURL: config.LLM_BASE_URL } : undefined,
    });
    return { name: `openai:${model.model}`, model, deadlineMs, attemptTimeoutMs };
  }
  const model = new ChatAnthropic({
    ...common,
    model: modelName,
    // A local proxy may need no key; the Anthropic API itself answers 401 without one.
    apiKey: config.LLM_API_KEY || process.env.ANTHROPIC_API_KEY || 'not-needed',
    // The SDK adds /v1/messages itself.
    anthropicApiUrl: config.LLM_BASE_URL.replace(/\/v1\/?$/, '') || undefined,
    clientOptions: { timeout: config.LLM_TIMEOUT_MS },
  });
  return { name: `anthropic:${model.model}`, model, deadlineMs, attemptTimeoutMs };
}

/** The clients report a timed-out attempt in several ways ("Request timed out", an abort, a connection error after their own abort). */
export function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  return (
    e?.name === 'AbortError' ||
    e?.name === 'TimeoutError' ||
    e?.name === 'APIConnectionTimeoutError' ||
    /timed? ?out|aborted/i.test(e?.message ?? '')
  );
}
