import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { ledgerOn } from './support/ledger-commands.mjs';

/**
 * A command that spans streams (partner enrollment, deal registration, MDF request) claims first, then appends to
 * its own boundary. Killed between the two (SIGKILL right after the claim's commit), its claim is abandoned; a
 * minute later another command takes the claim over. The first command's retry, with the same Idempotency-Key,
 * must then be refused like anyone else's, not finish on the claim it once held: otherwise a domain belongs to
 * two live partners, or one deal id lands in two customer accounts.
 */
const CHILD = resolve('test/support/ledger-commands.mjs');
const T0 = '2026-03-01T09:00:00.000Z';
const LATER = '2026-03-01T09:01:01.000Z'; // past the 60 s after which an unfinished claim counts as abandoned
const LATEST = '2026-03-01T09:01:30.000Z';

function crashAfterClaim(file: string, claimPrefix: string, kind: string, data: unknown, key: string): void {
  const r = spawnSync(process.execPath, [CHILD, file, T0, claimPrefix, kind, JSON.stringify(data), key], { encoding: 'utf8' });
  expect(r.signal).toBe('SIGKILL');
  expect(r.stdout).toBe('');
}

async function at<T>(file: string, now: string, work: (l: ReturnType<typeof ledgerOn>) => Promise<T>): Promise<T> {
  const ledger = ledgerOn(file, now);
  try {
    return await work(ledger);
  } finally {
    await ledger.store.close();
  }
}

describe('a retry after a crash between claim and append does not reuse a claim taken over since', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'takeover-'));
    file = join(dir, 'events.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const enroll = (partnerId: string, domain: string) => ({ partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain });
  const activePartners = async (...ids: string[]) =>
    at(file, T0, async (l) => {
      for (const id of ids) {
        await l.run('enroll', enroll(id, `${id.toLowerCase()}-partner.com`));
        await l.run('partner', { type: 'ActivatePartner', data: { partnerId: id } });
      }
    });

  it('partner domain: the retry is refused (409) and the domain keeps one live partner', async () => {
    crashAfterClaim(file, 'partnerdomain-', 'enroll', enroll('P-1', 'acme.com'), 'K-1');
    await at(file, LATER, async (l) => {
      expect((await l.store.readStream('partnerdomain-acme.com')).length).toBe(1);
      expect(await l.store.readStream('partner-P-1')).toEqual([]);
      await l.run('enroll', enroll('P-2', 'acme.com'));
    });
    await at(file, LATEST, async (l) => {
      await expect(l.run('enroll', enroll('P-1', 'acme.com'), 'K-1')).rejects.toMatchObject({ name: 'AlreadyExists', slug: 'already-exists' });
      expect(await l.store.readStream('partner-P-1')).toEqual([]);
      const claims = await l.store.readStream('partnerdomain-acme.com');
      expect(claims.map((e) => (e.data as { partnerId: string }).partnerId)).toEqual(['P-1', 'P-2']);
    });
  });

  it('partner domain: a retry while the claim is still its own finishes the enrollment', async () => {
    crashAfterClaim(file, 'partnerdomain-', 'enroll', enroll('P-1', 'acme.com'), 'K-1');
    await at(file, LATER, async (l) => {
      const outcome = await l.run('enroll', enroll('P-1', 'acme.com'), 'K-1');
      expect(outcome.events.map((e: { type: string }) => e.type)).toEqual(['PartnerDomainClaimed', 'PartnerEnrolled']);
      expect((await l.store.readStream('partnerdomain-acme.com')).length).toBe(1);
    });
  });

  it('partner domain: when the partner that took it over is terminated, the retry enrolls and its claim is the one that holds', async () => {
    crashAfterClaim(file, 'partnerdomain-', 'enroll', enroll('P-1', 'acme.com'), 'K-1');
    await at(file, LATER, async (l) => {
      await l.run('enroll', enroll('P-2', 'acme.com'));
      await l.run('partner', { type: 'TerminatePartner', data: { partnerId: 'P-2', reason: 'contract ended' } });
    });
    await at(file, LATEST, async (l) => {
      const outcome = await l.run('enroll', enroll('P-1', 'acme.com'), 'K-1');
      expect(outcome.events.map((e: { type: string }) => e.type)).toEqual(['PartnerDomainClaimed', 'PartnerEnrolled']);
      const claims = await l.store.readStream('partnerdomain-acme.com');
      expect(claims.map((e) => (e.data as { partnerId: string }).partnerId)).toEqual(['P-1', 'P-2', 'P-1']);
      // The domain now has one live partner, P-1: a third enrollment on it is refused.
      await expect(l.run('enroll', enroll('P-3', 'acme.com'))).rejects.toMatchObject({ slug: 'already-exists' });
      expect(await l.store.readStream('partner-P-3')).toEqual([]);
    });
  });

  it('deal id: the retry is refused (409) and the id is registered in one customer account only', async () => {
    await activePartners('P-1', 'P-2');
    const deal = (partnerId: string, domain: string) => ({
      dealId: 'D-1',
      partnerId,
      customer: { name: domain, domain },
      products: ['ERP'],
      estimatedValue: { amountMinor: 100_000, currency: 'USD' },
      expectedCloseDate: '2026-06-30T00:00:00.000Z',
    });
    crashAfterClaim(file, 'dealid-', 'register', deal('P-1', 'first.com'), 'K-2');
    await at(file, LATER, async (l) => {
      expect(await l.store.readStream('customer-first.com')).toEqual([]);
      await l.run('register', deal('P-2', 'second.com'));
    });
    await at(file, LATEST, async (l) => {
      await expect(l.run('register', deal('P-1', 'first.com'), 'K-2')).rejects.toMatchObject({ slug: 'already-exists' });
      expect(await l.store.readStream('customer-first.com')).toEqual([]);
      expect((await l.store.readStream('customer-second.com')).map((e) => e.type)).toEqual(['DealRegistered']);
    });
  });

  it('MDF request id: the retry is refused (409) and the id routes to one fund only', async () => {
    await activePartners('P-1', 'P-2');
    await at(file, T0, async (l) => {
      // Every tier MDF eligible, so that new partners can be allocated funds.
      const { version: _v, ...program } = DEFAULT_PROGRAM;
      await l.run('program', { ...program, tiers: program.tiers.map((t) => ({ ...t, mdfEligible: true })) });
      for (const partnerId of ['P-1', 'P-2']) await l.run('allocate', { partnerId, period: '2026-Q1', amount: { amountMinor: 10_000, currency: 'USD' } });
    });
    const request = (partnerId: string) => ({ requestId: 'R-1', partnerId, period: '2026-Q1', activity: 'Webinar', amount: { amountMinor: 1_000, currency: 'USD' } });
    crashAfterClaim(file, 'mdfrequest-', 'request', request('P-1'), 'K-3');
    await at(file, LATER, async (l) => {
      expect((await l.store.readStream('mdfrequest-R-1')).length).toBe(1);
      await l.run('request', request('P-2'));
    });
    await at(file, LATEST, async (l) => {
      await expect(l.run('request', request('P-1'), 'K-3')).rejects.toMatchObject({ slug: 'already-exists' });
      expect((await l.store.readStream('mdf-P-1.2026-Q1')).map((e) => e.type)).toEqual(['MdfFundsAllocated']);
      expect((await l.store.readStream('mdf-P-2.2026-Q1')).map((e) => e.type)).toEqual(['MdfFundsAllocated', 'MdfRequested']);
    });
  });
});
