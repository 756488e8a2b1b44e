import { checkpointText, generateSigner, openNote, parseCheckpoint, parseSignerKey, parseVerifierKey, signerKey, signNote, verifierKey } from './checkpoint.js';

// The reference example of golang.org/x/mod/sumdb/note (note_test.go): Ed25519 signatures are deterministic,
// so signing its text with its key must give its published note byte for byte.
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const NOTE = `${TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('signed notes (C2SP signed-note, Ed25519)', () => {
  it('reproduces the reference key id, verifier key and signed note', () => {
    const s = parseSignerKey(SKEY);
    expect(verifierKey(s)).toBe(VKEY);
    expect(signerKey(s)).toBe(SKEY);
    expect(signNote(TEXT, s)).toBe(NOTE);
    expect(openNote(NOTE, VKEY)).toBe(TEXT);
  });

  it('refuses an altered text, another key, a mangled signature or key', () => {
    expect(() => openNote(NOTE.replace('cryptography', 'cryptographY'), VKEY)).toThrow(/does not verify/);
    expect(() => openNote(NOTE, verifierKey(generateSigner('PeterNeumann')))).toThrow(/no signature by/);
    expect(() => openNote(NOTE.replace('x08go', 'x08gp'), VKEY)).toThrow();
    expect(() => parseVerifierKey(VKEY.replace('c74f20a3', 'c74f20a4'))).toThrow(/key id/);
    expect(() => openNote(TEXT, VKEY)).toThrow(/malformed/);
  });

  it('signs checkpoints that parse back to the tree head', () => {
    const s = generateSigner('ledger.example/log');
    const root = 'ab'.repeat(32);
    const note = signNote(checkpointText(s.name, 1234, root), s);
    expect(note.split('\n').slice(0, 3)).toEqual(['ledger.example/log', '1234', Buffer.from(root, 'hex').toString('base64')]);
    expect(parseCheckpoint(openNote(note, verifierKey(s)))).toEqual({ origin: 'ledger.example/log', size: 1234, rootHash: root });
    expect(() => parseCheckpoint('o\nx\nAAAA\n')).toThrow(/malformed/);
  });
});
