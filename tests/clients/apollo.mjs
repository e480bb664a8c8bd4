// Apollo Client 4 runs the contract's operations, unmodified, against a served Seatkeeper.
//   node apollo.mjs URL ADMIN_TOKEN SYNC_TOKEN CONTRACT_FILE [PLAN_FILE]  ->  one JSON line of results
// With PLAN_FILE (a JSON list of {name, token, variables}), every operation it names runs too,
// each with its own token, into results.all.
// Apollo adds __typename to every selection and sends extensions.clientLibrary: the server
// must still recognise its Sync as the trusted document (the Python test checks the route).
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { readFileSync } from 'node:fs';

const [url, adminToken, syncToken, contractFile, planFile] = process.argv.slice(2);
const contract = readFileSync(contractFile, 'utf8');

// What Apollo sends, as sent: the Python test checks the server recognises its Sync as trusted.
const sent = [];
async function recordingFetch(input, init) {
  sent.push({ accept: new Headers(init.headers).get('accept'), body: JSON.parse(init.body) });
  return fetch(input, init);
}

function client(token) {
  return new ApolloClient({
    link: new HttpLink({
      uri: url,
      headers: { authorization: `Bearer ${token}` },
      fetch: recordingFetch,
    }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'no-cache' }, mutate: { fetchPolicy: 'no-cache' } },
  });
}

// One operation of the contract, as an app would write it in its own gql`` block.
function operation(name) {
  const match = contract.match(new RegExp(`^(query|mutation) ${name}\\b`, 'm'));
  let depth = 0;
  for (let i = contract.indexOf('{', match.index); i < contract.length; i++) {
    if (contract[i] === '{') depth++;
    if (contract[i] === '}' && --depth === 0) return gql(contract.slice(match.index, i + 1));
  }
  throw new Error(`no operation ${name}`);
}

const admin = client(adminToken);
const sync = client(syncToken);
const out = {};
out.createUsers = (await admin.mutate({
  mutation: operation('CreateUsers'),
  variables: { users: [{ id: 'apollo-1', fullName: 'Apollo One', email: 'a1@example.com', standard: 'ASSIGNED' }] },
})).data;
out.sync = (await sync.mutate({
  mutation: operation('Sync'),
  variables: { input: { userId: 'apollo-1', email: 'a1@example.com' } },
})).data;
out.users = (await admin.query({ query: operation('Users'), variables: { first: 5 } })).data;
out.organization = (await admin.query({ query: operation('Organization') })).data;
if (planFile) {
  out.all = {};
  for (const step of JSON.parse(readFileSync(planFile, 'utf8'))) {
    const kind = contract.match(new RegExp(`^(query|mutation) ${step.name}\\b`, 'm'))[1];
    const runner = client(step.token);
    const document = operation(step.name);
    out.all[step.name] = kind === 'mutation'
      ? (await runner.mutate({ mutation: document, variables: step.variables })).data
      : (await runner.query({ query: document, variables: step.variables })).data;
  }
}
console.log(JSON.stringify({ results: out, sent }));
