import { hashPassword, verifyPassword } from './password';

describe('hashPassword / verifyPassword: salted scrypt', () => {
  it('verifies the password a hash was made from, and no other', async () => {
    // Given a stored hash
    const stored = await hashPassword('correct horse battery staple');
    // Then the same password verifies, and a different one (or a near miss) does not
    await expect(verifyPassword('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapl', stored)).resolves.toBe(false);
    await expect(verifyPassword('Correct horse battery staple', stored)).resolves.toBe(false);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });

  it('stores the parameters and a random salt, never the password', async () => {
    const a = await hashPassword('s3cret-password');
    const b = await hashPassword('s3cret-password');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toContain('s3cret-password');
    // a fresh salt each time: the same password hashes differently, and both verify
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    await expect(verifyPassword('s3cret-password', b)).resolves.toBe(true);
  });

  it('refuses malformed hashes instead of throwing', async () => {
    for (const stored of [
      '',
      'plain-text',
      'bcrypt$10$abc$def',
      'scrypt$32768$8$1$$',
      'scrypt$32768$8$1$c2FsdA==$',
    ])
      await expect(verifyPassword('anything', stored)).resolves.toBe(false);
  });

  it('refuses a hash whose key was tampered with', async () => {
    const stored = await hashPassword('s3cret-password');
    const parts = stored.split('$');
    const key = Buffer.from(parts[5], 'base64');
    key[0] ^= 1;
    parts[5] = key.toString('base64');
    await expect(verifyPassword('s3cret-password', parts.join('$'))).resolves.toBe(false);
  });
});
