import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../gateway/gateway.js';
import type { TokenService } from './token-service.js';

/** What a handler gets: the parsed request and the parts of berth it may use. */
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  gateway: Gateway;
  tokens: TokenService;
  /** The request body, read (bounded) and decoded on first call. */
  body(): Promise<Buffer>;
}

/** A JSON answer; handlers that stream write to `ctx.res` themselves and return nothing. */
export interface ApiReply {
  status?: number;
  body: unknown;
}

export interface ParamDoc {
  type: 'string' | 'integer' | 'boolean';
  description: string;
}

/**
 * One API operation: how it is matched, what it does, and how it is documented.
 * The OpenAPI document is generated from these same definitions, so the two
 * cannot drift apart.
 */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI-style template, e.g. `/v1/apps/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  query?: Record<string, ParamDoc>;
  /** What the request body holds, if it has one. */
  requestBody?: { description: string; contentTypes: string[] };
  /** Status → description of the success answers; errors are documented once for all. */
  responses: Record<number, string>;
  /** `text/event-stream` or `text/plain` for streaming operations; JSON otherwise. */
  produces?: string;
  handle(ctx: ApiContext): Promise<ApiReply | void>;
}
