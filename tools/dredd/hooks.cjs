// Dredd hooks for `npm run contract:dredd` (tools/dredd/run.mjs). CommonJS: Dredd requires hook files.
const { randomUUID } = require('node:crypto');
const hooks = require('hooks');

hooks.beforeEach((transaction, done) => {
  // Each documented status is a transaction with the same example request, so only the success can be
  // provoked black-box; the error answers are checked by the e2e suite's response validation instead.
  if (!/^2/.test(transaction.expected.statusCode)) transaction.skip = true;
  // The event stream never ends: Dredd would wait on it forever.
  if (transaction.request.uri.startsWith('/v1/events/stream')) transaction.skip = true;
  // The document's one Idempotency-Key example, sent with every command, would make the second a 422
  // `idempotency-key-reused`: each command gets a key of its own.
  if (transaction.request.headers['Idempotency-Key'] !== undefined) transaction.request.headers['Idempotency-Key'] = randomUUID();
  done();
});

hooks.beforeEachValidation((transaction, done) => {
  // Gavel compares Content-Type to the documented media type byte for byte; `; charset=utf-8` is a parameter of it.
  const headers = transaction.real && transaction.real.headers;
  if (headers && typeof headers['content-type'] === 'string') headers['content-type'] = headers['content-type'].split(';')[0].trim();
  done();
});
