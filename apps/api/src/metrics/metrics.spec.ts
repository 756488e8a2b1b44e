import { WrongExpectedVersionError } from '#libs/event-store/port.js';
import { NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { ProblemException } from '../platform/problem.js';
import { outcomeOf } from './command-telemetry.js';
import { Metrics } from './metrics.service.js';

const sample = (text: string, line: string) => text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1];

describe('Metrics', () => {
  it('keeps one registry per instance, so two apps in one process do not collide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.sseConnected();
    a.sseConnected();
    b.sseConnected();
    expect(sample(await a.render(), 'ledger_sse_connections')).toBe('2');
    expect(sample(await b.render(), 'ledger_sse_connections')).toBe('1');
    a.onModuleDestroy();
    b.onModuleDestroy();
  });

  it('counts the events of successful appends only, and times every append by outcome', async () => {
    const m = new Metrics();
    m.append({ streamId: 'partner-1', types: ['PartnerEnrolled', 'PartnerActivated'], seconds: 0.002, outcome: 'ok' });
    m.append({ streamId: 'partner-1', types: ['PartnerSuspended'], seconds: 0.001, outcome: 'conflict' });
    const text = await m.render();
    expect(sample(text, 'ledger_events_appended_total{type="PartnerEnrolled"}')).toBe('1');
    expect(sample(text, 'ledger_events_appended_total{type="PartnerSuspended"}')).toBeUndefined();
    expect(sample(text, 'ledger_event_store_append_duration_seconds_count{outcome="ok"}')).toBe('1');
    expect(sample(text, 'ledger_event_store_append_duration_seconds_count{outcome="conflict"}')).toBe('1');
    expect(sample(text, 'ledger_event_store_append_batch_size_sum')).toBe('2');
    m.onModuleDestroy();
  });

  it('clears the lag series when the store did not answer, rather than keeping stale values', async () => {
    const m = new Metrics();
    m.ledgerState({ storeUp: true, runnerUp: true, lag: { head: 10n, projections: [{ name: 'partners', position: 7n, events: 3, atLeast: false, seconds: 1.5 }] } });
    expect(sample(await m.render(), 'ledger_projection_lag_events{projection="partners"}')).toBe('3');
    m.ledgerState({ storeUp: false, runnerUp: true });
    const text = await m.render();
    expect(sample(text, 'ledger_event_store_up')).toBe('0');
    expect(sample(text, 'ledger_projection_lag_events{projection="partners"}')).toBeUndefined();
    m.onModuleDestroy();
  });
});

describe('outcomeOf', () => {
  it('names a refusal by its problem type and a server failure `error`', () => {
    expect(outcomeOf(new RuleViolation('cannot activate partner P1: it is active'))).toBe('refused-rule-violation');
    expect(outcomeOf(new NotFound('partner P1 not found'))).toBe('refused-not-found');
    expect(outcomeOf(new WrongExpectedVersionError('partner-P1', 3n, 4n))).toBe('refused-concurrency-conflict');
    expect(outcomeOf(ProblemException.validationFailed('bad'))).toBe('refused-validation-failed');
    expect(outcomeOf(new Error('disk on fire'))).toBe('error');
  });
});
