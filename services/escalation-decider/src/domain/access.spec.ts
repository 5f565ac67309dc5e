import { lostAccess } from './access';

describe('lostAccess', () => {
  it.each([
    ['English', "I'm locked out of my account"],
    ['English', 'I CAN’T LOG IN AND I NEED IT NOW'],
    ['English', 'We cannot sign in since this morning'],
    ['English', 'I lost my 2FA device'],
    ['English', 'I lost my phone with the authenticator'],
    ['English', 'Our account has been disabled'],
    ['English', 'The login code never arrives'],
    ['English', 'The app will not let me log in'],
    ['English', 'I locked myself out after too many attempts'],
    ['English', 'Nobody can sign in at our company right now'],
    ['English', 'Login not working since the update'],
    ['English', 'The backup codes are rejected too'],
    ['English', 'How do I get back into my account without my phone?'],
    ['English', 'She was deactivated by mistake, please restore her access'],
    ['German', 'Ich bin ausgesperrt'],
    ['German', 'Ich kann mich nicht mehr anmelden'],
    ['German', 'Unser Konto wurde gesperrt'],
    ['German', 'Ich habe mein Handy verloren'],
    ['French', "Je n'arrive plus à me connecter"],
    ['French', 'Mon compte a été bloqué'],
    ['French', 'Impossible de me connecter'],
    ['Spanish', 'No puedo iniciar sesión'],
    ['Spanish', 'Mi cuenta está bloqueada'],
    ['Italian', 'Non riesco ad accedere'],
    ['Italian', 'Il mio account è stato sospeso'],
    ['Dutch', 'Ik kan niet meer inloggen'],
    ['Portuguese', 'Não consigo entrar na minha conta'],
    ['Polish', 'Nie mogę się zalogować'],
    ['Swedish', 'Jag kan inte logga in'],
  ])('hears lost access in %s: "%s"', (_language, text) => {
    expect(lostAccess(text)).toBe(true);
  });

  it.each([
    'How do I log in with SSO?',
    'I can log in fine now, thanks',
    'How do I add a team member?',
    'Where do I change my password?',
    'Wie melde ich mich mit Google an?',
    'Comment me connecter avec SSO ?',
    'Can I lock an invoice so nobody edits it?',
    'We let someone go today, how do we lock them out of the workspace?',
    'How do I set up two-step verification?',
  ])('stays silent when access is not lost: "%s"', (text) => {
    expect(lostAccess(text)).toBe(false);
  });
});
