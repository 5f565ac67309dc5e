/**
 * Guards around the AI's text. The customer's message is data: these
 * patterns only flag a manipulation attempt for the people who review the
 * conversation; the answer comes from the knowledge base either way. The
 * output guard stops a generated reply that commits the company to money,
 * exceptions or legal positions, which only people may do.
 */

const INJECTION_PATTERNS: RegExp[] = [
  /\b(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+)?(of\s+)?(your|the|these|my)?\s*(previous|prior|above|earlier|preceding|system|original|your|all)\s+(instructions?|rules?|prompts?|guidelines?|polic(y|ies)|directives?)\b/i,
  /\b(ignore|disregard|forget|override|bypass)\s+(your|all\s+your|all)\s+(instructions?|rules?|prompts?|guidelines?|directives?|programming|training)\b/i,
  /\b(you are|you're)\s+(now\s+)?(hereby\s+)?(authori[sz]ed|allowed|permitted|cleared)\s+to\b/i,
  /\b(you are|you're)\s+(now\s+)?(an?|the)\s+(admin(istrator)?|developer|system|supervisor|root|superuser)\b/i,
  /\b(act as|pretend (to be|you are|you're)|roleplay as|role-play as|from now on,? you are|you are now)\s+(\w+\s+){0,2}(admin(istrator)?|manager|developer|supervisor|billing (manager|agent)|dan|jailbroken|unrestricted|different (ai|assistant))\b/i,
  /^\s*(system|assistant|developer)\s*[:>]/im,
  /<\/?\s*(system|instructions?|prompt)\s*>/i,
  /\b(reveal|show|print|repeat|tell me)\b.{0,30}\b(system prompt|your (instructions|rules|prompt))\b/i,
  /\bnew (instructions?|rules?)\s*:/i,
  /\bas (an? |the )?(ai|assistant|bot|chatbot)\b.{0,40}\b(approve|confirm|grant|issue|authori[sz]e|give)\b/i,
  /\b(confirm|approve|grant|authori[sz]e|issue)\b.{0,40}\b(refund|credit|discount|compensation|exception|waiver)\b.{0,60}\b(right now|immediately|right away|without (asking|checking|approval|review|a review)|as (an|the) (ai|assistant|agent))\b/i,
];

/** Whether the message looks like an attempt to instruct or manipulate the AI. */
export function looksLikeInjection(text: string): boolean {
  return INJECTION_PATTERNS.some((p) => p.test(text));
}

const DEMAND =
  /\b(confirm|approve|grant|authori[sz]e|issue|give me|apply)\b.{0,40}\b(refund|credit|discount|compensation|exception|waiver)\b/i;

/**
 * The question without the instructions aimed at the AI: when a message
 * looks like an injection, its sentences that instruct or demand a
 * commitment are set aside, so that retrieval, classification and the
 * evidence see the same question as without them. Without an injection the
 * text is returned whole.
 */
export function questionPart(text: string): { question: string; injection: boolean } {
  if (!looksLikeInjection(text)) return { question: text, injection: false };
  const kept = text
    .split(/(?<=[.!?:;])\s+|\n+/)
    .filter((s) => s.trim() && !looksLikeInjection(s) && !DEMAND.test(s));
  // Nothing but instructions: search with the whole text rather than nothing.
  return { question: kept.join(' ').trim() || text, injection: true };
}

const COMMITMENT = [
  /\b(i|we)(['’]ve| have| will| shall| can|['’]ll| am going to| are going to)?\s+(now\s+)?(issued?|process(ed)?|approved?|grant(ed)?|appl(y|ied)|authori[sz]ed?|refund(ed)?|credit(ed)?|waived?|reimburs(e|ed))\b.{0,60}\b(refund|credit|discount|compensation|reimbursement|exception|waiver|money back|your (fee|charge|payment|invoice))\b/i,
  /\b(you('ll| will)|you are going to)\s+(be (refunded|credited|reimbursed|compensated)|(get|receive)\b.{0,40}\b(refund|credit|money back|discount|compensation|reimbursement))\b/i,
  /\b(refund|credit|discount|exception|waiver)\b.{0,30}\b(has been|have been|is|was)\s+(approved|issued|granted|processed|applied|confirmed)\b/i,
  /\b(we|the company|ledgerly)\s+(are|is|will be)\s+(liable|legally responsible|at fault)\b/i,
  /\b(this|that)\s+(is|would be)\s+(illegal|unlawful|a breach of contract|legally binding)\b/i,
  /\b(guarantee|promise)\b.{0,30}\b(refund|credit|compensation|outcome|you will)\b/i,
];

/** Whether a generated reply commits to a refund, credit, exception or legal position. */
export function makesCommitment(text: string): boolean {
  return COMMITMENT.some((p) => p.test(text));
}
