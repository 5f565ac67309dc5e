import { v5 as uuidv5 } from 'uuid';

/** Namespace for the project's deterministic ids (a random UUID fixed once). */
const NAMESPACE = '3d0f6c1e-8a4b-4f7e-9c61-2b5a7e0d94c3';

/**
 * A deterministic id derived from its parts: the same cause always yields the
 * same id, which is what makes redeliveries recognisable downstream.
 */
export function deterministicId(...parts: string[]): string {
  // Length-prefixed, so that no two different lists of parts spell the same name.
  return uuidv5(parts.map((p) => `${p.length}:${p}`).join('|'), NAMESPACE);
}
