/**
 * What the system itself tells the customer while a conversation goes to a
 * person, in the main European languages. Templates name their values in
 * braces; durations and times are written by Intl in the customer's language.
 */

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Templates {
  /** Sent by the decider the moment it hands off. */
  handoff: string;
  /** Sent by the decider when a person is to check the AI's answer before the customer gets it. */
  review: string;
  /** "{team}" is `teamNamed` or `ourTeam`. */
  teamNamed: string;
  ourTeam: string;
  assigned: string;
  queued: string;
  update: string;
  underAMinute: string;
  offHours: string;
  /** Off hours when no agent has working hours to say from when. */
  offHoursNoTime: string;
  offHoursAskContact: string;
  offHoursContactKnown: string;
  contactNoted: string;
  /** Sent by the router when the agent hands the conversation back to the AI. */
  handedBack: string;
  /** Sent by ingest when the conversation is resolved: the request to rate it (1-5). */
  csatRequest: string;
}

export const TEMPLATES: Record<Language, Templates> = {
  en: {
    handoff:
      "I'm bringing in a person from our team. They will see this whole conversation, so you won't need to repeat anything.",
    review:
      "I have an answer for you; a person from our team is checking it before I send it. It won't be long.",
    teamNamed: 'the {team} team',
    ourTeam: 'our team',
    assigned: '{agent} from {team} has joined the conversation and can see everything so far.',
    queued:
      "A person from {team} will join you. You're number {position} in line and the estimated wait is {wait}. Everything you've written so far has been shared with them.",
    update:
      "You're now number {position} in line; the estimated wait is {wait}. Thanks for waiting.",
    underAMinute: 'under a minute',
    offHours:
      'Our team is offline right now. Someone from {team} will answer from {when}, and everything you have written so far has been shared with them.',
    offHoursNoTime:
      'Our team is offline right now. Someone from {team} will answer as soon as they are back, and everything you have written so far has been shared with them.',
    offHoursAskContact: 'Leave an e-mail address here and we will also reply there.',
    offHoursContactKnown: 'We will also reply to {contact}.',
    contactNoted: 'Thank you, we will reply to {contact} as well.',
    handedBack:
      '{agent} has handed you back to our assistant, which knows what was done. If you need a person again, just say so.',
    csatRequest:
      'Thank you for contacting us. How satisfied are you with this conversation? Please rate it from 1 (very dissatisfied) to 5 (very satisfied).',
  },
  de: {
    handoff:
      'Ich hole eine Person aus unserem Team dazu. Sie sieht dieses ganze Gespräch, Sie müssen also nichts wiederholen.',
    review:
      'Ich habe eine Antwort für Sie; eine Person aus unserem Team prüft sie noch, bevor ich sie sende. Es dauert nicht lange.',
    teamNamed: 'dem Team {team}',
    ourTeam: 'unserem Team',
    assigned: '{agent} aus {team} ist dem Gespräch beigetreten und sieht alles Bisherige.',
    queued:
      'Eine Person aus {team} meldet sich bei Ihnen. Sie sind Nummer {position} in der Warteschlange, die geschätzte Wartezeit beträgt {wait}. Alles, was Sie bisher geschrieben haben, liegt ihr vor.',
    update:
      'Sie sind jetzt Nummer {position}; die geschätzte Wartezeit beträgt {wait}. Danke für Ihre Geduld.',
    underAMinute: 'weniger als eine Minute',
    offHours:
      'Unser Team ist gerade nicht erreichbar. Jemand aus {team} antwortet ab {when}; alles, was Sie bisher geschrieben haben, liegt ihm vor.',
    offHoursNoTime:
      'Unser Team ist gerade nicht erreichbar. Jemand aus {team} antwortet, sobald es wieder da ist; alles, was Sie bisher geschrieben haben, liegt ihm vor.',
    offHoursAskContact:
      'Hinterlassen Sie hier eine E-Mail-Adresse, dann antworten wir auch dorthin.',
    offHoursContactKnown: 'Wir antworten zusätzlich an {contact}.',
    contactNoted: 'Danke, wir antworten auch an {contact}.',
    handedBack:
      '{agent} hat Sie wieder an unseren Assistenten übergeben, der weiß, was erledigt wurde. Wenn Sie wieder eine Person brauchen, sagen Sie es einfach.',
    csatRequest:
      'Danke, dass Sie sich an uns gewandt haben. Wie zufrieden sind Sie mit diesem Gespräch? Bitte bewerten Sie es von 1 (sehr unzufrieden) bis 5 (sehr zufrieden).',
  },
  fr: {
    handoff:
      "Je fais appel à une personne de notre équipe. Elle verra toute cette conversation, vous n'aurez rien à répéter.",
    review:
      "J'ai une réponse pour vous ; une personne de notre équipe la vérifie avant que je l'envoie. Cela ne sera pas long.",
    teamNamed: "l'équipe {team}",
    ourTeam: 'notre équipe',
    assigned: '{agent} de {team} a rejoint la conversation et voit tout ce qui précède.',
    queued:
      "Une personne de {team} va vous répondre. Vous êtes numéro {position} dans la file et l'attente estimée est de {wait}. Tout ce que vous avez écrit lui a été transmis.",
    update:
      "Vous êtes maintenant numéro {position} ; l'attente estimée est de {wait}. Merci de patienter.",
    underAMinute: "moins d'une minute",
    offHours:
      "Notre équipe n'est pas disponible pour le moment. Une personne de {team} vous répondra à partir de {when} ; tout ce que vous avez écrit lui a été transmis.",
    offHoursNoTime:
      "Notre équipe n'est pas disponible pour le moment. Une personne de {team} vous répondra dès son retour ; tout ce que vous avez écrit lui a été transmis.",
    offHoursAskContact: 'Laissez une adresse e-mail ici et nous y répondrons aussi.',
    offHoursContactKnown: 'Nous répondrons aussi à {contact}.',
    contactNoted: 'Merci, nous répondrons aussi à {contact}.',
    handedBack:
      "{agent} vous a redirigé vers notre assistant, qui sait ce qui a été fait. Si vous avez de nouveau besoin d'une personne, dites-le simplement.",
    csatRequest:
      'Merci de nous avoir contactés. Êtes-vous satisfait de cette conversation ? Notez-la de 1 (très insatisfait) à 5 (très satisfait).',
  },
  es: {
    handoff:
      'Voy a pasar la conversación a una persona de nuestro equipo. Verá toda esta conversación, así que no tendrá que repetir nada.',
    review:
      'Tengo una respuesta para usted; una persona de nuestro equipo la está revisando antes de enviarla. No tardará mucho.',
    teamNamed: 'nuestro equipo de {team}',
    ourTeam: 'nuestro equipo',
    assigned: '{agent}, de {team}, se ha unido a la conversación y puede ver todo lo anterior.',
    queued:
      'Una persona de {team} le atenderá. Es el número {position} en la cola y la espera estimada es de {wait}. Todo lo que ha escrito se le ha compartido.',
    update: 'Ahora es el número {position}; la espera estimada es de {wait}. Gracias por esperar.',
    underAMinute: 'menos de un minuto',
    offHours:
      'Nuestro equipo no está disponible ahora. Alguien de {team} le responderá a partir de {when}; todo lo que ha escrito se le ha compartido.',
    offHoursNoTime:
      'Nuestro equipo no está disponible ahora. Alguien de {team} le responderá en cuanto vuelva; todo lo que ha escrito se le ha compartido.',
    offHoursAskContact:
      'Deje aquí una dirección de correo electrónico y también le responderemos allí.',
    offHoursContactKnown: 'También le responderemos a {contact}.',
    contactNoted: 'Gracias, también le responderemos a {contact}.',
    handedBack:
      '{agent} le ha devuelto a nuestro asistente, que sabe lo que se ha hecho. Si vuelve a necesitar a una persona, solo dígalo.',
    csatRequest:
      'Gracias por contactarnos. ¿Qué tan satisfecho está con esta conversación? Valórela de 1 (muy insatisfecho) a 5 (muy satisfecho).',
  },
  it: {
    handoff:
      'Sto coinvolgendo una persona del nostro team. Vedrà tutta questa conversazione, quindi non dovrà ripetere nulla.',
    review:
      'Ho una risposta per lei; una persona del nostro team la sta verificando prima che la invii. Non ci vorrà molto.',
    teamNamed: 'team {team}',
    ourTeam: 'nostro team',
    assigned:
      '{agent} del {team} si è unito alla conversazione e vede tutto quello che è stato scritto.',
    queued:
      "Una persona del {team} la contatterà. È il numero {position} in coda e l'attesa stimata è di {wait}. Tutto ciò che ha scritto le è stato condiviso.",
    update: "Ora è il numero {position}; l'attesa stimata è di {wait}. Grazie per l'attesa.",
    underAMinute: 'meno di un minuto',
    offHours:
      'Il nostro team non è disponibile in questo momento. Qualcuno del {team} risponderà a partire da {when}; tutto ciò che ha scritto gli è stato condiviso.',
    offHoursNoTime:
      'Il nostro team non è disponibile in questo momento. Qualcuno del {team} risponderà appena possibile; tutto ciò che ha scritto gli è stato condiviso.',
    offHoursAskContact: 'Lasci qui un indirizzo e-mail e risponderemo anche lì.',
    offHoursContactKnown: 'Risponderemo anche a {contact}.',
    contactNoted: 'Grazie, risponderemo anche a {contact}.',
    handedBack:
      '{agent} ti ha riaffidato al nostro assistente, che sa cosa è stato fatto. Se hai di nuovo bisogno di una persona, basta dirlo.',
    csatRequest:
      'Grazie per averci contattato. Quanto è soddisfatto di questa conversazione? La valuti da 1 (molto insoddisfatto) a 5 (molto soddisfatto).',
  },
  nl: {
    handoff:
      'Ik schakel iemand van ons team in. Die ziet dit hele gesprek, dus u hoeft niets te herhalen.',
    review:
      'Ik heb een antwoord voor u; iemand van ons team controleert het voordat ik het verstuur. Het duurt niet lang.',
    teamNamed: 'het {team}-team',
    ourTeam: 'ons team',
    assigned: '{agent} van {team} neemt deel aan het gesprek en ziet alles wat er al is gezegd.',
    queued:
      'Iemand van {team} helpt u verder. U bent nummer {position} in de wachtrij en de geschatte wachttijd is {wait}. Alles wat u hebt geschreven is gedeeld.',
    update:
      'U bent nu nummer {position}; de geschatte wachttijd is {wait}. Bedankt voor uw geduld.',
    underAMinute: 'minder dan een minuut',
    offHours:
      'Ons team is nu niet bereikbaar. Iemand van {team} antwoordt vanaf {when}; alles wat u hebt geschreven is gedeeld.',
    offHoursNoTime:
      'Ons team is nu niet bereikbaar. Iemand van {team} antwoordt zodra het team terug is; alles wat u hebt geschreven is gedeeld.',
    offHoursAskContact: 'Laat hier een e-mailadres achter, dan antwoorden we ook daar.',
    offHoursContactKnown: 'We antwoorden ook naar {contact}.',
    contactNoted: 'Dank u, we antwoorden ook naar {contact}.',
    handedBack:
      '{agent} heeft u teruggezet naar onze assistent, die weet wat er is gedaan. Hebt u weer een persoon nodig, zeg het gewoon.',
    csatRequest:
      'Bedankt voor uw bericht. Hoe tevreden bent u over dit gesprek? Geef het een cijfer van 1 (zeer ontevreden) tot 5 (zeer tevreden).',
  },
  pt: {
    handoff:
      'Vou chamar uma pessoa da nossa equipa. Ela verá toda esta conversa, por isso não precisa de repetir nada.',
    review:
      'Tenho uma resposta para si; uma pessoa da nossa equipa está a verificá-la antes de a enviar. Não vai demorar.',
    teamNamed: 'nossa equipa de {team}',
    ourTeam: 'nossa equipa',
    assigned: '{agent}, da {team}, juntou-se à conversa e vê tudo o que foi escrito.',
    queued:
      'Uma pessoa da {team} vai atendê-lo. É o número {position} na fila e a espera estimada é de {wait}. Tudo o que escreveu foi partilhado.',
    update: 'Agora é o número {position}; a espera estimada é de {wait}. Obrigado por aguardar.',
    underAMinute: 'menos de um minuto',
    offHours:
      'A nossa equipa não está disponível agora. Alguém da {team} responderá a partir de {when}; tudo o que escreveu foi partilhado.',
    offHoursNoTime:
      'A nossa equipa não está disponível agora. Alguém da {team} responderá assim que voltar; tudo o que escreveu foi partilhado.',
    offHoursAskContact: 'Deixe aqui um endereço de e-mail e também responderemos para lá.',
    offHoursContactKnown: 'Também responderemos para {contact}.',
    contactNoted: 'Obrigado, também responderemos para {contact}.',
    handedBack:
      '{agent} devolveu-o ao nosso assistente, que sabe o que foi feito. Se voltar a precisar de uma pessoa, basta dizer.',
    csatRequest:
      'Obrigado por nos contactar. Qual é a sua satisfação com esta conversa? Avalie-a de 1 (muito insatisfeito) a 5 (muito satisfeito).',
  },
};

/** The language of a BCP 47 tag the templates cover, English otherwise. */
export function languageOf(tag: string): Language {
  const primary = (tag || '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return (LANGUAGES as readonly string[]).includes(primary) ? (primary as Language) : 'en';
}

/** Fills `{name}` placeholders; an unknown name is left as it is. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in values ? String(values[name]) : m,
  );
}

/** A wait in the customer's language, rounded up to whole minutes ("4 minutes", "4 Minuten"). */
export function waitText(seconds: number, tag: string): string {
  const lang = languageOf(tag);
  if (seconds < 60) return TEMPLATES[lang].underAMinute;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120)
    return new Intl.NumberFormat(lang, {
      style: 'unit',
      unit: 'minute',
      unitDisplay: 'long',
    }).format(minutes);
  return new Intl.NumberFormat(lang, { style: 'unit', unit: 'hour', unitDisplay: 'long' }).format(
    Math.ceil(minutes / 60),
  );
}

/** A moment in the customer's language, e.g. "Monday 09:00 UTC". */
export function whenText(at: Date, tag: string, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat(languageOf(tag), {
    weekday: 'long',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(at);
}

/** The team as the sentence names it ("the Billing team"), or "our team". */
export function teamText(team: string, tag: string): string {
  const t = TEMPLATES[languageOf(tag)];
  return team.trim() ? fill(t.teamNamed, { team: team.trim() }) : t.ourTeam;
}

export function notice(
  key: keyof Templates,
  tag: string,
  values: Record<string, string | number> = {},
): string {
  return fill(TEMPLATES[languageOf(tag)][key], values);
}
