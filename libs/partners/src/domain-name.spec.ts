import fc from 'fast-check';
import { registrableDomain, unsafeSpelling } from './domain-name.js';

describe('registrableDomain', () => {
  it.each([
    ['acme.co.uk', 'acme.co.uk'],
    ['www.acme.co.uk', 'acme.co.uk'],
    ['https://EU.Acme.co.uk/x', 'acme.co.uk'],
    ['HTTPS://WWW.ACME.CO.UK:8443/Path?q=1#frag', 'acme.co.uk'],
    ['http://user:secret@www.acme.com/', 'acme.com'],
    ['//acme.com/path', 'acme.com'],
    ['acme.com/path/to', 'acme.com'],
    ['acme.com:8080', 'acme.com'],
    ['ACME.COM', 'acme.com'],
    ['  acme.com  ', 'acme.com'],
    ['acme.com.', 'acme.com'],
    ['a.b.c.acme.com', 'acme.com'],
    ['shop.acme.com.au', 'acme.com.au'],
    ['www.com', 'www.com'],
    ['example.com', 'example.com'],
    ['partner.test', 'partner.test'],
    ['ＡＣＭＥ.com', 'acme.com'],
  ])('given %j, then %j', (input, expected) => {
    expect(registrableDomain(input)).toBe(expected);
  });

  describe('internationalized names fold to one ASCII key', () => {
    it.each([
      ['münchen.de', 'xn--mnchen-3ya.de'],
      ['https://www.München.DE/stadt', 'xn--mnchen-3ya.de'],
      ['xn--mnchen-3ya.de', 'xn--mnchen-3ya.de'],
      ['XN--MNCHEN-3YA.DE', 'xn--mnchen-3ya.de'],
      ['WWW.BÜCHER.DE', 'xn--bcher-kva.de'],
      ['пример.рф', 'xn--e1afmkfd.xn--p1ai'],
      ['shop.xn--e1afmkfd.xn--p1ai', 'xn--e1afmkfd.xn--p1ai'],
    ])('given %j, then %j', (input, expected) => {
      expect(registrableDomain(input)).toBe(expected);
    });
  });

  it('uses the private section of the public suffix list: tenants of a platform are different owners', () => {
    expect(registrableDomain('alice.github.io')).toBe('alice.github.io');
    expect(registrableDomain('www.alice.github.io')).toBe('alice.github.io');
    expect(registrableDomain('bob.github.io')).toBe('bob.github.io');
  });

  it.each([
    [''],
    ['   '],
    ['co.uk'],
    ['co.uk.'],
    ['com'],
    ['github.io'],
    ['localhost'],
    ['http://localhost:3000'],
    ['app.localhost'],
    ['acme.invalid'],
    ['127.0.0.1'],
    ['127.1'],
    ['http://192.168.0.1:8080/x'],
    ['[::1]'],
    ['http://[2001:db8::1]/'],
    ['garbage'],
    ['acme..com'],
    ['acme com'],
    ['-acme.com'],
    ['http://'],
    ['..'],
  ])('given %j, then there is no registrable domain', (input) => {
    expect(registrableDomain(input)).toBeUndefined();
  });

  it('is idempotent: a normalized domain normalizes to itself', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const host = fc.tuple(fc.array(label, { maxLength: 3 }), fc.constantFrom('com', 'co.uk', 'de', 'com.au', 'io', 'xn--p1ai'));
    fc.assert(
      fc.property(host, fc.constantFrom('', 'https://', 'HTTP://WWW.'), ([labels, suffix], prefix) => {
        const once = registrableDomain(`${prefix}${labels.join('.')}${labels.length ? '.' : ''}${suffix}`);
        if (once !== undefined) expect(registrableDomain(once)).toBe(once);
      }),
    );
  });

  it('answers a remembered spelling as it answered the first time, and the same for a long-padded one', () => {
    for (let round = 0; round < 2; round++) {
      expect(registrableDomain('https://EU.Acme.co.uk/x')).toBe('acme.co.uk');
      expect(registrableDomain('localhost')).toBeUndefined();
      expect(registrableDomain(`${' '.repeat(5000)}acme.com`)).toBe('acme.com');
    }
  });
});

describe('unsafeSpelling (issue #17)', () => {
  it.each([
    ['http://user:pass@acme.com', /user name or password/],
    ['user:pass@acme.com/x', /user name or password/],
    ['bob@acme.com', /user name or password/],
    ['//bob@acme.com', /user name or password/],
    // A Cyrillic о (U+043E) in a Latin label, in Unicode and as punycode.
    ['normtest.c\u043em', /mixes scripts in the label "c\u043em"/],
    [`xn--${'normtest'}.${new URL('http://c\u043em').hostname}`, /mixes scripts/],
    ['https://www.p\u0430ypal.com/login', /mixes scripts/],
    ['\u0430pple.com', /mixes scripts/],
    // Greek omicron among Latin letters.
    ['g\u03bfogle.com', /mixes scripts/],
  ])('refuses %j', (spelling, message) => {
    expect(unsafeSpelling(spelling)).toMatch(message);
  });

  it.each([
    'acme.com',
    'https://EU.Acme.co.uk/x?next=a@b',
    'acme.com:8443/path',
    'münchen.de',
    'xn--mnchen-3ya.de',
    'пример.рф',
    'ελληνικά.gr',
    '日本語.jp',
    '東京タワー.jp',
    'ラーメン-123.jp',
    '한국어.kr',
    'abc日本.jp',
  ])('accepts %j (one script, or Latin with CJK scripts as UTS #39 Highly Restrictive allows)', (spelling) => {
    expect(unsafeSpelling(spelling)).toBeUndefined();
  });
});
