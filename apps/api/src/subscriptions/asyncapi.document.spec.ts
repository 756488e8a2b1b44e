import { asyncApiDocumentFor, asyncApiDocumentText } from './asyncapi.document.js';

describe('the AsyncAPI document as served', () => {
  it('names the configured or requested origin as its server, and is otherwise the committed document', () => {
    const committed = JSON.parse(asyncApiDocumentText()) as { servers: Record<string, { host: string; protocol: string }> };
    expect(committed.servers.ledger!.host).toBe('{host}');
    const served = JSON.parse(asyncApiDocumentFor('https://ledger.example.com')) as typeof committed;
    expect(served.servers.ledger).toMatchObject({ host: 'ledger.example.com', protocol: 'https' });
    expect(served.servers.ledger).not.toHaveProperty('variables');
    expect(JSON.parse(asyncApiDocumentFor('http://127.0.0.1:4100')).servers.ledger).toMatchObject({ host: '127.0.0.1:4100', protocol: 'http' });
    expect({ ...served, servers: undefined }).toEqual({ ...committed, servers: undefined });
  });
});
