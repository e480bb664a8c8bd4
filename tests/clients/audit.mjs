// The GraphQL-over-HTTP audit suite (graphql-http) against a served Seatkeeper.
//   node audit.mjs URL TOKEN  ->  one JSON line: {"ok": n, "warn": [...], "error": [...]}
// Every request carries the token (Seatkeeper refuses any operation without one: 401).
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = { ok: 0, warn: [], error: [] };
for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const result = await audit.fn();
  if (result.status === 'ok') results.ok += 1;
  else results[result.status].push(`${audit.id} ${audit.name}: ${result.reason}`);
}
console.log(JSON.stringify(results));
