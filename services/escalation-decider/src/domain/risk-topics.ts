/**
 * Topics a support team keeps for people, recognised from the customer's
 * wording in the main European languages. They complement the intent
 * classifier (which knows contract, privacy and security questions) with
 * high-precision cues: a named lawsuit, a custom price, contract and
 * procurement paperwork, the legal terms of a contract, a data-subject
 * request, a live compromise, or advice only a licensed professional may give.
 */
export const RISK_TOPICS = [
  'legal_dispute',
  'pricing_negotiation',
  'contract_procurement',
  'legal_terms',
  'privacy_request',
  'security_incident',
  'regulated_advice',
] as const;

export type RiskTopic = (typeof RISK_TOPICS)[number];

// Each cue ends where the word does: (?!\w), not \b, which finds no boundary after a
// non-ASCII letter ("piraté", "négocié") and would miss those words.
const CUES: Record<RiskTopic, RegExp> = {
  legal_dispute:
    /\b(lawyers?|attorneys?|solicitors?|lawsuit|sue|suing|legal action|(to|in) court|small claims|litigation|class action|cease and desist|breach of contract|anwalt|anwältin|rechtsanwalt|klage|verklagen|gericht|avocats?|procès|poursuites|tribunal|mise en demeure|abogad[oa]s?|demanda(r)?|juicio|avvocat[oi]|causa legale|tribunale|advocaat|rechtszaak|advogad[oa]|processo judicial)(?!\w)/i,
  pricing_negotiation:
    /\b(custom (pricing|price|quote|contract|terms)|negotiat\w*|volume discount|enterprise (pricing|quote|agreement)|(better|special) (price|deal|rate)|price match|sonderkonditionen|rabatt verhandeln|individuelles angebot|devis personnalisé|tarif (négocié|préférentiel)|négocier|precio personalizado|negociar|descuento por volumen|prezzo personalizzato|negoziare|onderhandelen|maatwerkofferte|preço personalizado)(?!\w)/i,
  contract_procurement:
    /\b(contract renewal|renew(al of)? (our|the|my) (contract|agreement|subscription contract)|(amend|change|extend|sign|countersign|review) (our|the|my|a) (contract|agreement|order form)|order forms?|(signed|executed|countersigned) (copy of )?(the |our |a |your )?(contract|agreement|amendment|order form|addendum)|(contract|agreement) (countersigned|signed)|signatory|signing authority|statement of work|\\bsow\\b|certificate of insurance|payment terms|(sla|service) credits|contractual remedy|(supplier|vendor|reseller|partner) (agreement|contract|onboarding)|master (services|subscription) agreement|\bmsa\b|\bdpa\b|data processing (agreement|addendum)|redlines?|redlined|vendor (forms?|registration|questionnaires?|(risk |security )?assessment|file|agreement)|supplier (forms?|registration|code of conduct)|security (questionnaires?|review form|assessment form)|\b(caiq|sig lite)\b|purchase orders?|\bpo (number|no\.?)|procurement|\bw-?9\b|\bw-8ben(-e)?\b|\brf[piq]\b|request for (proposal|quotation|information)|rahmenvertrag\\w*|vertragsverlängerung|auftragsverarbeitungsvertrag|\bavv\b|bestellnummer|lieferantenformular|lieferantenanlage|sicherheitsfragebogen|beschaffung|bon de commande|questionnaire de sécurité|contrat[- ]cadre|référencement fournisseur|fiche fournisseur|renouvellement (du|de notre) contrat|appel d'offres|orden de compra|cuestionario de seguridad|alta de proveedor|formulario de proveedor|renovación del contrato|contrato marco|licitación|ordine di acquisto|questionario di sicurezza|modulo fornitore|albo fornitori|rinnovo del contratto|contratto quadro|inkooporder|beveiligingsvragenlijst|leveranciersformulier|contractverlenging|raamovereenkomst|verwerkersovereenkomst|ordem de compra|pedido de compra|questionário de segurança|cadastro de fornecedor|renovação do contrato)(?!\w)/i,
  legal_terms:
    /\b((limitation of|limit(ation)? on|cap on) liability|liability (cap|limit|clause)s?|indemnif\w*|indemnity|governing law|(which|what) law governs|jurisdiction (clause|for disputes)|force majeure|right[- ]to[- ]audit|most[- ]favou?red[- ](customer|nation)|exclusivity (clause|terms?)|warranty (in|under) the (contract|agreement)|(my|our) rights under the (contract|agreement)|(violation|breach) of (your|the|our) (own )?terms|(terms of service|terms|license terms|agreement) (permit|allow|say)|legal (counsel|department)|termination clause|warranty clause|(contract|contractual) (clause|terms?)|clauses? (in|of) (the|our|your) (contract|agreement)|terms (and conditions|of service) (of|in) (the|our) (contract|agreement)|non[- ]disclosure agreement|\bnda\b|our (legal team|legal department|counsel|general counsel)|legal review|haftungsbegrenzung|haftungsobergrenze|haftungsklausel|freistellung|gerichtsstand|anwendbares recht|vertragsklausel|geheimhaltungsvereinbarung|rechtsabteilung|limitation de responsabilité|plafond de responsabilité|clause contractuelle|droit applicable|accord de confidentialité|service juridique|limitación de responsabilidad|cláusula (del contrato|contractual)|ley aplicable|acuerdo de confidencialidad|departamento (legal|jurídico)|limitazione di responsabilità|manleva|legge applicabile|foro competente|accordo di riservatezza|ufficio legale|aansprakelijkheidsbeperking|vrijwaring|toepasselijk recht|geheimhoudingsovereenkomst|juridische afdeling|limitação de responsabilidade|lei aplicável|acordo de confidencialidade|departamento jurídico)(?!\w)/i,
  privacy_request:
    /\b(gdpr|dsgvo|rgpd|ccpa|dsar|subject access request|data subject|right to (be forgotten|erasure|access)|(delete|erase) (all )?(my|our) (personal )?data|export (all )?(my|our) personal data|art(icle|\.)? ?(15|17|20)\b|auskunftsersuchen|datenauskunft|löschung meiner daten|droit à l'oubli|suppression de mes données|derecho al olvido|borrar mis datos|diritto all'oblio|cancellazione dei miei dati|verwijder mijn gegevens|apagar meus dados)(?!\w)/i,
  security_incident:
    /\b(hacked|hacker|compromised|(data|security) breach|breached|unauthori[sz]ed (access|login|charges?|transactions?|payments?)|phishing|stolen (password|credentials|account)|account takeover|ransomware|malware|gehackt|kompromittiert|datenleck|piraté|compte compromis|fuite de données|hackead[oa]|comprometid[oa]|fuga de datos|hackerat[oa]|datalek|invadid[oa])(?!\w)/i,
  regulated_advice:
    /\b(tax advice|financial advice|investment advice|legal advice|medical advice|(should|can) i (deduct|declare)\b|(claim|deduct) .{0,25}\b(on|from|against) (my |our )?tax(es)?\b|is (it|this) (tax[- ]deductible|deductible|legal)|which (investment|fund|stocks?)|how (much|do i) (to )?pay in tax(es)?|steuerberatung|steuerlich absetzbar|rechtsberatung|anlageberatung|conseil (fiscal|juridique|financier)|déductible|asesor(amiento|ía) (fiscal|legal|financier[oa])|deducible|consulenza (fiscale|legale|finanziaria)|detraibile|belastingadvies|aftrekbaar|aconselhamento (fiscal|jurídico|financeiro)|dedutível)/i,
};

/** The risk topics the text names, in RISK_TOPICS order. */
export function riskTopics(text: string): RiskTopic[] {
  return RISK_TOPICS.filter((t) => CUES[t].test(text));
}
