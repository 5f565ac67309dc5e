/**
 * Guards around the AI's text. The customer's message is data: these
 * patterns only flag a manipulation attempt for the people who review the
 * conversation; the answer comes from the knowledge base either way. The
 * output guard stops a generated reply that commits the company to money,
 * exceptions or legal positions, which only people may do.
 */

const INJECTION_PATTERNS: RegExp[] = [
  /\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(previous|prior|above|earlier|all|your|the|system)\b.{0,30}\b(instructions?|rules?|prompts?|guidelines?|polic(y|ies)|directives?)\b/i,
  /\b(you are|you're|act as|pretend (to be|you are|you're)|roleplay as|from now on you are)\b.{0,40}\b(authori[sz]ed|allowed|permitted|admin(istrator)?|manager|developer|supervisor|dan|jailbroken|unrestricted)\b/i,
  /^\s*(system|assistant|developer)\s*[:>]/im,
  /<\/?\s*(system|instructions?|prompt)\s*>/i,
  /\b(reveal|show|print|repeat|tell me)\b.{0,30}\b(system prompt|your (instructions|rules|prompt))\b/i,
  /\bnew (instructions?|rules?)\s*:/i,
  /\b(confirm|approve|grant|authori[sz]e|issue)\b.{0,40}\b(refund|credit|discount|compensation|exception|waiver)\b.{0,60}\b(now|immediately|right away|without|as (an|the) (ai|assistant|agent))\b/i,
];

/** Whether the message looks like an attempt to instruct or manipulate the AI. */
export function looksLikeInjection(text: string): boolean {
  return INJECTION_PATTERNS.some((p) => p.test(text));
}

const COMMITMENT = [
  /\b(i|we)(['’]ve| have| will| shall| can|['’]ll| am going to| are going to)?\s+(now\s+)?(issued?|process(ed)?|approved?|grant(ed)?|appl(y|ied)|authori[sz]ed?|refund(ed)?|credit(ed)?|waived?|reimburs(e|ed))\b.{0,60}\b(refund|credit|discount|compensation|reimbursement|exception|waiver|money back|your (fee|charge|payment|invoice))\b/i,
  /\b(you('ll| will)|you are going to)\s+(get|receive|be (refunded|credited|reimbursed|compensated))\b.{0,40}\b(refund|credit|money|discount|compensation|back)?/i,
  /\b(refund|credit|discount|exception|waiver)\b.{0,30}\b(has been|have been|is|was)\s+(approved|issued|granted|processed|applied|confirmed)\b/i,
  /\b(we|the company|ledgerly)\s+(are|is|will be)\s+(liable|legally responsible|at fault)\b/i,
  /\b(this|that)\s+(is|would be)\s+(illegal|unlawful|a breach of contract|legally binding)\b/i,
  /\b(guarantee|promise)\b.{0,30}\b(refund|credit|compensation|outcome|you will)\b/i,
];

/** Whether a generated reply commits to a refund, credit, exception or legal position. */
export function makesCommitment(text: string): boolean {
  return COMMITMENT.some((p) => p.test(text));
}
