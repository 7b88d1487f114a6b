// A minimal typed GraphQL client over fetch: give it one of the generated documents and its
// variables, get that operation's result type back. Any client that takes a
// TypedDocumentNode (urql, Apollo Client, graphql-request) works the same way.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export interface ClientOptions {
  /** The server's GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql */
  url: string;
  /** An access token from the Login or Register mutation. */
  token?: string;
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

interface GraphQLResponse<TResult> {
  data?: TResult | null;
  errors?: GraphQLError[];
}

/** The first error of a response: its message and its `extensions.code` (e.g. NOT_FOUND). */
export class GraphQLRequestError extends Error {
  readonly code: string | undefined;
  readonly errors: GraphQLError[];

  constructor(errors: GraphQLError[], status: number) {
    const first = errors[0];
    super(first?.message ?? `HTTP ${status}`);
    this.name = "GraphQLRequestError";
    this.code = first?.extensions?.code;
    this.errors = errors;
  }
}

const printed = new WeakMap<object, string>();

function text(document: TypedDocumentNode<unknown, never>): string {
  let query = printed.get(document);
  if (query === undefined) {
    query = print(document);
    printed.set(document, query);
  }
  return query;
}

export async function request<TResult, TVariables>(
  options: ClientOptions,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  if (options.token !== undefined) {
    headers.authorization = `Bearer ${options.token}`;
  }
  const response = await fetch(options.url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: text(document as TypedDocumentNode<unknown, never>), variables }),
  });
  const body = (await response.json()) as GraphQLResponse<TResult>;
  if (body.errors !== undefined && body.errors.length > 0) {
    throw new GraphQLRequestError(body.errors, response.status);
  }
  if (!response.ok || body.data === undefined || body.data === null) {
    throw new GraphQLRequestError([], response.status);
  }
  return body.data;
}
