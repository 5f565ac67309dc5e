import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { BaseMessage } from '@langchain/core/messages';
import type { LLMResult } from '@langchain/core/outputs';
import { failed, startClientSpan, type Span } from '@support/telemetry';

interface Usage {
  input_tokens?: number;
  output_tokens?: number;
}

/** Token counts as the providers report them through LangChain (usage metadata, else the raw usage). */
function usageOf(output: LLMResult): Usage | undefined {
  const message = (output.generations[0]?.[0] as { message?: { usage_metadata?: Usage } })?.message;
  if (message?.usage_metadata) return message.usage_metadata;
  const raw = output.llmOutput as
    | { tokenUsage?: { promptTokens?: number; completionTokens?: number }; usage?: Usage }
    | undefined;
  if (raw?.tokenUsage)
    return {
      input_tokens: raw.tokenUsage.promptTokens,
      output_tokens: raw.tokenUsage.completionTokens,
    };
  return raw?.usage;
}

/**
 * A span per chat-model call (OpenTelemetry's GenAI conventions: `chat <model>`, the provider,
 * the model, the tokens used), a child of whatever the caller was doing (the consumed record).
 * Neither the prompt nor the reply is recorded: they hold customers' words. LangChain awaits these
 * handlers, so each runs in its caller's context.
 */
export class ModelCallSpans extends BaseCallbackHandler {
  name = 'support-model-call-spans';
  private readonly spans = new Map<string, Span>();

  constructor(
    private readonly provider: string,
    private readonly model: string,
  ) {
    super({ _awaitHandler: true });
  }

  override handleChatModelStart(_llm: Serialized, _messages: BaseMessage[][], runId: string) {
    const span = startClientSpan(`chat ${this.model}`, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': this.provider,
      'gen_ai.request.model': this.model,
    });
    if (span) this.spans.set(runId, span);
  }

  override handleLLMEnd(output: LLMResult, runId: string) {
    const span = this.take(runId);
    if (!span) return;
    const usage = usageOf(output);
    if (usage?.input_tokens !== undefined)
      span.setAttribute('gen_ai.usage.input_tokens', usage.input_tokens);
    if (usage?.output_tokens !== undefined)
      span.setAttribute('gen_ai.usage.output_tokens', usage.output_tokens);
    span.end();
  }

  override handleLLMError(err: Error, runId: string) {
    const span = this.take(runId);
    if (!span) return;
    failed(span, err);
    span.end();
  }

  private take(runId: string): Span | undefined {
    const span = this.spans.get(runId);
    this.spans.delete(runId);
    return span;
  }
}
