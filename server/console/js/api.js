// The console's only way to the server: the public GraphQL API (and the CSV download routes),
// with the token pasted at sign-in. The token lives in sessionStorage, never in a URL.

import { h } from "./dom.js";

const TOKEN_KEY = "seatkeeper.console.token";
const OPERATIONS_URL = "/console/operations.graphql";

/** An error the server (or the network) gave, with a code such as UNAUTHENTICATED or FORBIDDEN. */
export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Each operation of the console's trusted documents, by name: `query Name …` up to the next. */
export function splitOperations(text) {
  const operations = new Map();
  const starts = [...text.matchAll(/^(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)];
  starts.forEach((match, index) => {
    const end = index + 1 < starts.length ? starts[index + 1].index : text.length;
    operations.set(match[1], text.slice(match.index, end).trim());
  });
  return operations;
}

let operations = null;
function loadOperations() {
  operations ??= fetch(OPERATIONS_URL, { cache: "no-cache", credentials: "omit" })
    .then((response) => {
      if (!response.ok) throw new ApiError("The console's operations could not be loaded.", "HTTP");
      return response.text();
    })
    .then(splitOperations)
    .catch((error) => {
      operations = null; // try again next time
      throw error;
    });
  return operations;
}

function headers(extra = {}) {
  const secret = token.get();
  return secret ? { Authorization: `Bearer ${secret}`, ...extra } : extra;
}

function signalUnauthenticated(error) {
  if (error.code === "UNAUTHENTICATED") {
    window.dispatchEvent(new CustomEvent("seatkeeper:unauthenticated", { detail: error.message }));
  }
}

/** Run one of the console's operations by name; resolves to `data`, or throws an ApiError. */
export async function gql(name, variables = {}) {
  const query = (await loadOperations()).get(name);
  if (!query) throw new ApiError(`The console has no operation ${name}.`, "CONSOLE");
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: headers({
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      }),
      body: JSON.stringify({ query, operationName: name, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check the connection and try again.", "NETWORK");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body?.errors?.length) {
    const first = body.errors[0];
    const error = new ApiError(first.message, first.extensions?.code ?? "ERROR", response.status);
    signalUnauthenticated(error);
    throw error;
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(`The server answered ${response.status}.`, "HTTP", response.status);
  }
  return body.data;
}

/** Fetch a file that needs the bearer token and save it as a download (a blob: URL, same bytes). */
export async function download(path, filename) {
  let response;
  try {
    response = await fetch(path, { headers: headers(), credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError("The server cannot be reached. Check the connection and try again.", "NETWORK");
  }
  if (!response.ok) {
    let message = `The server answered ${response.status}.`;
    let code = "HTTP";
    try {
      const first = (await response.json()).errors[0];
      message = first.message;
      code = first.extensions?.code ?? code;
    } catch {
      // not a JSON error: keep the status
    }
    const error = new ApiError(message, code, response.status);
    signalUnauthenticated(error);
    throw error;
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob.size;
}
