import { Priority } from '@support/contracts';
import {
  citationOf,
  extractiveAnswer,
  grounding,
  retrievalEvidence,
  type CitationDraft,
  type Evidence,
  type RankedArticle,
} from './answer.js';
import { confidenceModel, confidenceOf, type ConfidenceModel } from './confidence.js';
import { makesCommitment, looksLikeInjection } from './guard.js';
import {
  askForDetails,
  extractDetails,
  mergeDetails,
  asksHowTo,
  missingDetails,
  type Detail,
} from './intake.js';
import { languageOf } from './kb/language.js';
import { plainText } from './kb/passages.js';
import { profileOf, urgencyOf, type DetailName } from './taxonomy.js';

/** What the intent classifier said about the message. */
export interface Classification {
  intent: string;
  probability: number;
  outOfScope: boolean;
  /** 0..1, higher = more likely out of scope. */
  outOfScopeScore: number;
}

/** A reply a generator wrote from retrieved passages. */
export type Generated =
  { answerable: true; text: string; cited: RankedArticle[] } | { answerable: false };

/** Writes an answer from the retrieved articles: the offline extractive answerer, or an LLM. */
export interface Generator {
  /** "extractive", "openai:<model>", "anthropic:<model>". */
  readonly name: string;
  /** Whether the text is quoted from the sources (grounded by construction) or generated. */
  readonly extractive: boolean;
  generate(request: GenerateRequest): Promise<Generated>;
}

/** What a generator writes from. */
export interface GenerateRequest {
  question: string;
  locale: string;
  articles: RankedArticle[];
  /** The conversation before the question, as `formatContext` writes it ('' when none). */
  conversation?: string;
  /** The person the reply is drafted for (e.g. "Ada, Billing"; '' while nobody has taken it), when a person has or awaits the conversation. */
  draftFor?: string;
}

export class GeneratorTimeout extends Error {}

export type ReplyKind = 'answer' | 'intake' | 'no_answer' | 'smalltalk';

export interface Proposal {
  kind: ReplyKind;
  text: string;
  confidence: number;
  evidence: Evidence;
  intent: string;
  intentProbability: number;
  outOfScope: boolean;
  topic: string;
  urgency: Priority;
  requiredSkills: string[];
  citations: CitationDraft[];
  articlesTried: string[];
  collectedDetails: Detail[];
  missingDetails: DetailName[];
  generator: string;
  flags: string[];
}

export interface RespondInput {
  messageId: string;
  /** The customer's message as written. */
  text: string;
  /** The question in it, instructions to the AI set aside (see questionPart); default: the text. */
  question?: string;
  locale: string;
  /** Details collected earlier in the conversation. */
  known: Detail[];
  /** The customer's earlier messages in the conversation, oldest first (never an agent's lines). */
  earlier?: string[];
  /** The responder already asked this conversation for details. */
  askedBefore: boolean;
  /** The conversation before the message, for the generator (see formatContext). */
  conversation?: string;
  /**
   * A person has or awaits the conversation and the reply is a draft for them
   * (their name and team, e.g. "Ada, Billing"; '' while nobody has taken it):
   * the reply is flagged `draft_for_agent`, never asks for details (the person
   * does) and has no text when there is nothing to answer.
   */
  draftFor?: string;
  /** The customer said they do not want a person ("no need for a human, just…"): not a request for one. */
  declinedPerson?: boolean;
  classification: Classification;
  ranked: RankedArticle[];
  /** Sentence-encoder similarity of the message to the best passage, 0..1 (0 when unknown). */
  similarity?: number;
}

export interface RespondOptions {
  generator: Generator;
  model?: ConfidenceModel;
  /** Classifier probability at or above which small talk is answered in kind. */
  smalltalkMin?: number;
  /** Classifier probability at or above which the intent is trusted enough to ask for its details. */
  intakeMin?: number;
}

/**
 * The flag on a proposal written while a person has or awaits the conversation:
 * a draft the agent's desk may offer them, which the decider never releases.
 */
export const DRAFT_FOR_AGENT = 'draft_for_agent';

const HOLDING: Record<string, string> = {
  en: "I couldn't find a reliable answer to that in our help center, so I'm bringing in a member of our team.",
  fr: "Je n'ai pas trouvé de réponse fiable dans notre centre d'aide ; je fais appel à un membre de notre équipe.",
  de: 'Dazu habe ich in unserem Hilfe-Center keine verlässliche Antwort gefunden, daher hole ich jemanden aus unserem Team dazu.',
  es: 'No encontré una respuesta fiable en nuestro centro de ayuda, así que aviso a una persona de nuestro equipo.',
};

const HANDING_OVER: Record<string, string> = {
  en: "Of course, I'm bringing in a member of our team.",
  fr: 'Bien sûr, je fais appel à un membre de notre équipe.',
  de: 'Natürlich, ich hole jemanden aus unserem Team dazu.',
  es: 'Por supuesto, aviso a una persona de nuestro equipo.',
};

const SMALLTALK: Record<'greeting' | 'thanks' | 'bye' | 'bot', Record<string, string>> = {
  greeting: {
    en: 'Hello! What can I help you with today?',
    fr: "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
    de: 'Hallo! Wobei kann ich Ihnen heute helfen?',
    es: '¡Hola! ¿En qué puedo ayudarle hoy?',
  },
  thanks: {
    en: "You're welcome! Is there anything else I can help with?",
    fr: 'Avec plaisir ! Puis-je vous aider pour autre chose ?',
    de: 'Gern geschehen! Kann ich sonst noch helfen?',
    es: '¡De nada! ¿Puedo ayudarle con algo más?',
  },
  bye: {
    en: 'Thanks for getting in touch. Have a great day!',
    fr: 'Merci de nous avoir contactés. Bonne journée !',
    de: 'Danke für Ihre Nachricht. Einen schönen Tag noch!',
    es: 'Gracias por escribirnos. ¡Que tenga un buen día!',
  },
  bot: {
    en: "I'm the AI assistant: I answer from our help center, and I can bring in a person whenever you like.",
    fr: "Je suis l'assistant IA : je réponds à partir de notre centre d'aide et je peux faire appel à une personne quand vous le souhaitez.",
    de: 'Ich bin der KI-Assistent: Ich antworte aus unserem Hilfe-Center und hole jederzeit gern eine Person dazu.',
    es: 'Soy el asistente de IA: respondo a partir de nuestro centro de ayuda y puedo avisar a una persona cuando lo desee.',
  },
};

function localized(table: Record<string, string>, locale: string): string {
  return table[languageOf(locale)] ?? table.en;
}

function smalltalkKind(text: string): keyof typeof SMALLTALK {
  if (/\b(bot|robot|human|real person|ai|machine)\b\s*\??/i.test(text) && /\?/.test(text))
    return 'bot';
  if (
    /\b(thanks?|thank you|thx|ty|cheers|merci|danke|gracias|obrigad[oa]|grazie|perfect|great|awesome|worked)\b/i.test(
      text,
    )
  )
    return 'thanks';
  if (/\b(bye|goodbye|see you|ciao|au revoir|tsch(ü|u)ss|adi(ó|o)s|that'?s all)\b/i.test(text))
    return 'bye';
  return 'greeting';
}

/**
 * Decides the AI's proposed reply to one customer message from what the
 * classifier, retrieval and the generator produced: an answer with its
 * citations and calibrated confidence, a request for the details a person
 * will need (asked once per conversation), small talk answered in kind, or a
 * holding line with no confidence. Never sends anything itself. With
 * `draftFor` the reply is a draft for the person who holds the conversation:
 * flagged, never a request for details, and empty rather than a holding line.
 */
export async function respond(input: RespondInput, options: RespondOptions): Promise<Proposal> {
  const { classification: c, ranked, locale } = input;
  const model = options.model ?? confidenceModel;
  const profile = profileOf(c.intent);
  const draft = input.draftFor !== undefined;
  const flags: string[] = [];
  if (draft) flags.push(DRAFT_FOR_AGENT);
  if (looksLikeInjection(input.text)) flags.push('prompt_injection_suspected');
  const question = input.question ?? input.text;
  const collectedDetails = mergeDetails(input.known, extractDetails(input.text, input.messageId));
  // A plain how-to question gets the answer, even on a topic whose cases need details first.
  const missing = asksHowTo(question)
    ? []
    : missingDetails(c.intent, collectedDetails, [...(input.earlier ?? []), question]);
  const retrieval = retrievalEvidence(question, ranked);
  const best = ranked[0];
  const base = {
    intent: c.intent,
    intentProbability: round(c.probability),
    outOfScope: c.outOfScope,
    topic: best ? (best.productAreas[0] ?? best.tags[0] ?? '') : '',
    urgency: urgencyOf(c.intent, question),
    requiredSkills: [profile.skill],
    articlesTried: ranked.map((a) => a.id),
    collectedDetails,
    missingDetails: missing,
    flags,
  };
  const evidenceWith = (groundingValue: number): Evidence => ({
    ...retrieval,
    classifier: round(c.probability),
    outOfScope: round(c.outOfScopeScore),
    grounding: groundingValue,
    similarity: round(input.similarity ?? 0),
  });
  const noAnswer = (text: string, generator: string, evidence = evidenceWith(0)): Proposal => ({
    ...base,
    kind: 'no_answer',
    text,
    confidence: 0,
    evidence,
    citations: [],
    generator,
  });

  // A draft has nothing to say for the person when there is no answer: they hold the conversation already.
  if (c.intent === 'human_request' && !c.outOfScope && !input.declinedPerson)
    return noAnswer(draft ? '' : localized(HANDING_OVER, locale), 'none');
  if (
    c.intent === 'smalltalk' &&
    !c.outOfScope &&
    c.probability >= (options.smalltalkMin ?? 0.6) &&
    retrieval.coverage < 0.5
  ) {
    return {
      ...base,
      kind: 'smalltalk',
      text: localized(SMALLTALK[smalltalkKind(question)], locale),
      confidence: round(c.probability),
      evidence: evidenceWith(1),
      citations: [],
      generator: 'template',
    };
  }

  let answer: { text: string; citations: CitationDraft[]; grounding: number } | undefined;
  let generatorName = options.generator.name;
  if (best) {
    let generated: Generated;
    try {
      generated = await options.generator.generate({
        question,
        locale,
        articles: ranked,
        conversation: input.conversation ?? '',
        ...(draft ? { draftFor: input.draftFor } : {}),
      });
    } catch (err) {
      flags.push(err instanceof GeneratorTimeout ? 'llm_timeout' : 'llm_error');
      generatorName = 'extractive-fallback';
      const extractive = extractiveAnswer(question, best);
      generated = { answerable: true, text: extractive.text, cited: [best] };
    }
    if (generated.answerable && generated.cited.length > 0) {
      const sources = generated.cited.map((a) => plainText(a.passage.text));
      const isQuoted = options.generator.extractive || generatorName === 'extractive-fallback';
      answer = {
        text: generated.text,
        citations: isQuoted
          ? [extractiveAnswer(question, generated.cited[0]).citation]
          : generated.cited.map((a) => citationOf(a, plainText(a.passage.text).slice(0, 400))),
        grounding: isQuoted
          ? 1
          : grounding(generated.text, [...sources, ...generated.cited.map((a) => a.title)]),
      };
      if (!isQuoted && answer.grounding < 0.5) flags.push('weakly_grounded');
    } else if (generated.answerable) {
      flags.push('uncited_answer_dropped');
    }
  }
  if (answer && makesCommitment(answer.text)) {
    flags.push('policy_promise_blocked');
    answer = undefined;
  }

  const confidence = answer ? confidenceOf(evidenceWith(answer.grounding), model) : 0;
  const trustIntent = !c.outOfScope && c.probability >= (options.intakeMin ?? 0.5);
  if (
    missing.length > 0 &&
    !input.askedBefore &&
    !draft &&
    trustIntent &&
    confidence < model.threshold
  ) {
    return {
      ...base,
      kind: 'intake',
      text: askForDetails(missing, locale),
      confidence: round(c.probability),
      evidence: evidenceWith(answer?.grounding ?? 0),
      citations: [],
      generator: 'template',
    };
  }
  if (!answer) return noAnswer(draft ? '' : localized(HOLDING, locale), generatorName);
  return {
    ...base,
    kind: 'answer',
    text: answer.text,
    confidence,
    evidence: evidenceWith(answer.grounding),
    citations: answer.citations,
    generator: generatorName,
  };
}

/** The offline generator: quotes the best passage, cited. */
export const extractiveGenerator: Generator = {
  name: 'extractive',
  extractive: true,
  generate: ({ question, articles }) => {
    const best = articles[0];
    if (!best) return Promise.resolve({ answerable: false });
    return Promise.resolve({
      answerable: true,
      text: extractiveAnswer(question, best).text,
      cited: [best],
    });
  },
};

function round(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}
