// GraphQL-over-HTTP conformance: graphql-http's own server audit against a running gateway.
// Usage: node audit.mjs URL TOKEN  (NODE_PATH or a node_modules next to it holds graphql-http)
// Prints one JSON line per audit result, then exits 0 (the pytest test judges the results).
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);

// auditServer has no headers option: a fetchFn adds the bearer token to every audit request
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
for (const result of results) {
  let detail = result.status === 'ok' ? '' : result.reason;
  if (result.status !== 'ok' && result.response) {
    detail += ` [${result.response.status}] ${await result.response.text().catch(() => '')}`;
  }
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, detail }));
}
