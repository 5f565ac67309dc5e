import { RISK_TOPICS, riskTopics, type RiskTopic } from './risk-topics';

describe('risk topics', () => {
  const cases: [RiskTopic, string, string][] = [
    ['legal_dispute', 'English', 'My lawyer will be in touch about this'],
    ['legal_dispute', 'English', 'This is a breach of contract'],
    ['legal_dispute', 'German', 'Mein Anwalt wird sich bei Ihnen melden'],
    ['legal_dispute', 'French', 'Je vais saisir le tribunal'],
    ['legal_dispute', 'Spanish', 'Voy a hablar con mi abogado'],
    ['pricing_negotiation', 'English', 'Can we negotiate a volume discount for 200 seats?'],
    ['pricing_negotiation', 'German', 'Wir möchten ein individuelles Angebot'],
    ['pricing_negotiation', 'French', 'Nous aimerions un devis personnalisé'],
    ['pricing_negotiation', 'French', 'Avez-vous un tarif négocié ?'],
    ['pricing_negotiation', 'Spanish', 'Quiero un precio personalizado'],
    ['contract_procurement', 'English', 'Please fill out our vendor security questionnaire'],
    ['contract_procurement', 'English', 'Our procurement team needs a purchase order reference'],
    ['contract_procurement', 'English', 'Can you send the MSA so we can add our redlines?'],
    ['contract_procurement', 'German', 'Bitte füllen Sie unser Lieferantenformular aus'],
    ['contract_procurement', 'French', 'Voici notre bon de commande'],
    ['contract_procurement', 'Spanish', 'Necesitamos una orden de compra'],
    ['contract_procurement', 'Dutch', 'Kunt u de verwerkersovereenkomst tekenen?'],
    ['contract_procurement', 'English', 'Could you send the countersigned order form?'],
    ['contract_procurement', 'English', 'How are service credits paid out when you miss the SLA?'],
    ['contract_procurement', 'English', 'Who is the signatory on your side?'],
    ['legal_terms', 'English', 'Is the liability cap negotiable?'],
    ['legal_terms', 'English', 'Which law governs the agreement?'],
    ['legal_terms', 'English', 'How is force majeure handled?'],
    ['legal_terms', 'English', 'Do you offer indemnification for IP claims?'],
    ['legal_terms', 'German', 'Wir brauchen eine Haftungsbegrenzung'],
    ['legal_terms', 'French', 'Quel est le droit applicable ?'],
    ['legal_terms', 'Italian', 'Qual è il foro competente?'],
    ['privacy_request', 'English', 'Under GDPR I want you to delete my personal data'],
    ['privacy_request', 'German', 'Ich verlange Auskunft nach Art. 15 DSGVO'],
    ['privacy_request', 'French', "J'exerce mon droit à l'oubli"],
    ['privacy_request', 'Spanish', 'Quiero borrar mis datos'],
    ['security_incident', 'English', 'Someone hacked my account'],
    ['security_incident', 'German', 'Mein Konto wurde gehackt'],
    ['security_incident', 'French', 'Mon compte a été piraté'],
    ['security_incident', 'French', 'Mon compte a été piraté !'],
    ['security_incident', 'Spanish', 'Mi cuenta ha sido hackeada'],
    ['regulated_advice', 'English', 'Is this tax deductible for my company?'],
    ['regulated_advice', 'German', 'Ist das steuerlich absetzbar?'],
    ['regulated_advice', 'French', "Est-ce déductible de l'impôt ?"],
    ['regulated_advice', 'Spanish', '¿Es deducible de impuestos?'],
  ];

  it.each(cases)('recognises %s in %s: "%s"', (topic, _language, text) => {
    expect(riskTopics(text)).toEqual([topic]);
  });

  it('covers every topic in English and at least two other languages', () => {
    for (const topic of RISK_TOPICS) {
      const languages = new Set(cases.filter(([t]) => t === topic).map(([, l]) => l));
      expect(languages.has('English') && languages.size >= 3).toBe(true);
    }
  });

  it.each([
    'How do I export my invoices to CSV?',
    'Can I get a refund?',
    'We reached a compromise with your sales team',
    'I have an issue with my last invoice',
    "What's the price of the Business plan?",
    'Where do I change my password?',
    'Wie exportiere ich meine Rechnungen?',
    'Comment changer mon mot de passe ?',
    'Can I claim a refund for last month?',
    'How do I export my data to Excel?',
    'We play on the basketball court after work',
    'How do I add a new vendor to a bill?',
    'How do I sign in with my company account?',
  ])('stays silent on an everyday question: "%s"', (text) => {
    expect(riskTopics(text)).toEqual([]);
  });

  it('takes a breach of contract for a legal matter, not a security incident', () => {
    expect(riskTopics('This is a breach of contract')).toEqual(['legal_dispute']);
    expect(riskTopics('We had a data breach')).toEqual(['security_incident']);
  });

  it('still hears a tax claim and a portability request when they are one', () => {
    expect(riskTopics('Can I claim the subscription against my taxes?')).toEqual([
      'regulated_advice',
    ]);
    expect(riskTopics('Please export all my personal data')).toEqual(['privacy_request']);
    expect(riskTopics('I will take you to court')).toEqual(['legal_dispute']);
  });

  it('is not fooled by the case the customer writes in', () => {
    expect(riskTopics('I WILL FILE A LAWSUIT')).toEqual(['legal_dispute']);
  });

  it('names every topic a message touches, in a stable order', () => {
    expect(
      riskTopics('Our account was hacked; under GDPR send us our data or our lawyer will sue'),
    ).toEqual(['legal_dispute', 'privacy_request', 'security_incident']);
  });
});
