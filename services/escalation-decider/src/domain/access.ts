/**
 * Whether the customer has lost access to their account, from their wording
 * in the main European languages: locked out, cannot log or sign in, the
 * account disabled, suspended or blocked, the second factor (phone,
 * authenticator, codes, key) lost or not arriving. Pure.
 */
const CUES = [
  // English
  "locked out|lock(?:ed)? (?:me|myself|us|ourselves) out|(?:can(?:no|')?t|can not|could(?:n't| not)) (?:log ?in|login|sign ?in|get (?:in|into|back into)|access (?:my|our|the) (?:account|workspace|company))",
  "(?:unable|not able) to (?:log ?in|login|sign ?in|access (?:my|our|the) (?:account|workspace))|(?:won't|doesn't|does not|will not) let (?:me|us) (?:log ?in|login|sign ?in|in)",
  '(?:lost|no longer have|no access to|lost access to) (?:my|our|the)? ?(?:2fa|mfa|two[- ]factor|authenticator|phone|security key|recovery codes|backup codes|account|access)',
  '(?:account|login|profile|user) (?:\\p{L}+ ){0,2}(?:disabled|suspended|blocked|locked|deactivated|frozen)|(?:was|been|got) (?:deactivated|disabled|suspended|locked out)',
  "(?:nobody|no one|none of us|everyone) (?:can(?:no|')?t |can |is unable to )?(?:log ?in|sign ?in|get in|access)|get back in(?:to)?|regain access|(?:restore|restored) (?:\\p{L}+ )?access|access restored",
  "(?:log ?in|login|logins|sign[- ]?in|sso) (?:is |are )?(?:not working|broken|down|stopped working|fail(?:s|ing|ed)?|(?:doesn't|does not|won't|will not) work)|too many (?:login|sign[- ]in) attempts|invalid credentials",
  "(?:2fa|mfa|two[- ]factor|two[- ]step|authenticator|verification|backup|recovery|otp|reset) (?:codes?|app|email|e-mail|link)? ?(?:is |are )?(?:always |still )?(?:rejected|invalid|expired|not working|(?:don't|doesn't|do not|does not|won't) work|never (?:arrives?|came)|not arriving)",
  'reset (?:my |our |the )?(?:2fa|mfa|two[- ]factor|authenticator)|stuck (?:on|at) (?:the )?(?:2fa|mfa|login|sign[- ]in|verification)',
  "(?:2fa|mfa|verification|otp|sms|login) codes? (?:is |are )?(?:not|never|isn't|aren't|doesn't|don't) (?:work\\p{L}*|arriv\\p{L}*|com\\p{L}*|valid)",
  // German
  'ausgesperrt|(?:kann|können) (?:mich|uns) nicht (?:mehr )?(?:anmelden|einloggen)|komme? nicht (?:mehr )?(?:in|ins) (?:mein|unser|das)? ?konto',
  'konto (?:ist |wurde )?(?:gesperrt|deaktiviert|blockiert)|(?:zugang|zugriff) (?:zu \\p{L}+ konto )?verloren|kein(?:en)? (?:zugang|zugriff) (?:mehr )?(?:auf|zu)',
  '(?:handy|telefon|authenticator|2fa|zweiten faktor) verloren',
  // French
  "bloqué(?:e)? (?:hors de|de) (?:mon|notre) compte|impossible de (?:me |nous )?(?:connecter|accéder)|(?:je |on )?n'arrive (?:pas|plus) à (?:me |nous )?(?:connecter|accéder)",
  '(?:je|on) ne (?:peux|peut) (?:pas|plus) (?:me |nous )?(?:connecter|accéder)|compte (?:est |a été )?(?:bloqué|désactivé|suspendu|verrouillé)',
  '(?:perdu|plus accès à) (?:mon|ma|notre) (?:téléphone|2fa|authentificateur|double authentification|compte)',
  // Spanish
  'no (?:puedo|podemos) (?:iniciar sesi[oó]n|entrar|acceder)|cuenta (?:est[aá] |fue |ha sido )?(?:bloqueada|desactivada|suspendida)',
  '(?:perd[ií]|hemos perdido) (?:mi|el|nuestro) (?:m[oó]vil|tel[eé]fono|2fa|autenticador|acceso)|sin acceso a (?:mi|nuestra) cuenta',
  // Italian
  "non (?:riesco|riusciamo) (?:ad?|più a) (?:accedere|entrare|fare il login)|account (?:è |e' )?(?:stato )?(?:bloccato|disattivato|sospeso)",
  "ho perso (?:il|l'|la) ?(?:telefono|autenticatore|2fa|accesso)|bloccat[oa] fuori",
  // Dutch
  'kan (?:niet|nergens) (?:meer )?(?:inloggen|aanmelden)|buitengesloten|account (?:is )?(?:geblokkeerd|gedeactiveerd|vergrendeld)',
  'geen toegang (?:meer )?tot (?:mijn|ons) account|(?:2fa|telefoon|authenticator) kwijt',
  // Portuguese
  'não (?:consigo|conseguimos) (?:entrar|acessar|aceder|fazer login|iniciar sessão)|conta (?:está |foi )?(?:bloqueada|desativada|suspensa)',
  'perdi (?:o |meu |o meu )?(?:celular|telemóvel|autenticador|2fa|acesso)|sem acesso à (?:minha|nossa) conta',
  // Polish, Swedish
  'nie (?:mogę|możemy) (?:się )?zalogować|konto (?:jest |zostało )?zablokowane|kan inte logga in|kontot (?:är )?(?:låst|spärrat)',
];

const LOST_ACCESS = new RegExp(`(?<!\\p{L})(?:${CUES.join('|')})(?!\\p{L})`, 'iu');

/** The text says the customer cannot get into their account. */
export function lostAccess(text: string): boolean {
  return LOST_ACCESS.test(text.replace(/[’`´]/g, "'"));
}
