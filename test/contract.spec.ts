import type { OpenAPIObject } from '@nestjs/swagger';
import { ContractValidator, type Exchange } from './support/contract.js';

/** The checker behind the response-validation contract (test/support/contract.ts) finds each kind of drift. */
describe('ContractValidator', () => {
  const document = {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/v1/things/{id}': {
        get: {
          responses: {
            200: {
              description: 'ok',
              headers: { 'Ledger-Position': { required: true, schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } }, 'text/csv': { schema: { type: 'string' } } },
            },
            404: { description: 'nf', content: { 'application/problem+json': { schema: { type: 'object', required: ['type'] } } } },
          },
        },
      },
    },
    components: {
      schemas: {
        Thing: { type: 'object', required: ['id', 'count'], additionalProperties: false, properties: { id: { type: 'string' }, count: { type: 'integer' }, note: { type: 'string', nullable: true } } },
      },
    },
  } as unknown as OpenAPIObject;
  const validator = new ContractValidator(document);
  const answer = (over: Partial<Exchange>): Exchange => ({
    method: 'GET',
    route: '/v1/things/{id}',
    url: '/v1/things/a',
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ledger-position': '3' },
    body: JSON.stringify({ id: 'a', count: 1, note: null }),
    ...over,
  });
  const kinds = (ex: Exchange) => validator.check(ex).map((v) => v.kind);

  it('accepts an answer that matches, text bodies and streamed ones by media type alone', () => {
    expect(kinds(answer({}))).toEqual([]);
    expect(kinds(answer({ headers: { 'content-type': 'text/csv', 'ledger-position': '3' }, body: 'a,b\n' }))).toEqual([]);
    expect(kinds(answer({ body: undefined }))).toEqual([]);
  });

  it('names an undocumented status, route, media type, a missing header and a body that does not match', () => {
    expect(kinds(answer({ status: 500 }))).toEqual(['undocumented-status']);
    expect(kinds(answer({ route: '/v1/other' }))).toEqual(['undocumented-route']);
    expect(kinds(answer({ headers: { 'content-type': 'text/html', 'ledger-position': '3' }, body: '<p>' }))).toEqual(['undocumented-content-type']);
    expect(kinds(answer({ headers: { 'content-type': 'application/json' } }))).toEqual(['missing-header']);
    const [mismatch] = validator.check(answer({ body: JSON.stringify({ id: 'a', count: 1.5, extra: true }) }));
    expect(mismatch?.kind).toBe('body-mismatch');
    expect(mismatch?.message).toMatch(/count/);
    expect(mismatch?.message).toMatch(/extra/);
    expect(kinds(answer({ status: 404, headers: { 'content-type': 'application/problem+json' }, body: '{}' }))).toEqual(['body-mismatch']);
  });

  it('leaves out what the document does not describe on purpose: the docs and unmatched paths', () => {
    expect(kinds(answer({ url: '/docs-json', route: '/docs-json' }))).toEqual([]);
    expect(kinds(answer({ route: undefined, status: 404 }))).toEqual([]);
  });
});
