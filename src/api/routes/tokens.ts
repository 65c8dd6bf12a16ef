import { BadRequestError } from '../../errors.js';
import { jsonObjectBody } from '../body.js';
import type { RouteDef } from '../route-def.js';

const TOKEN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export const tokenRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/tokens',
    operationId: 'listTokens',
    summary: 'List API tokens by name and creation time (never their secrets)',
    tag: 'tokens',
    responses: { 200: 'The tokens' },
    async handle(ctx) {
      const tokens = await ctx.tokens.list();
      return { body: { tokens: tokens.map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt: lastUsedAt ?? null })) } };
    },
  },
  {
    method: 'POST',
    path: '/v1/tokens',
    operationId: 'createToken',
    summary: 'Create an API token; its secret is in this answer and nowhere else, ever',
    tag: 'tokens',
    requestBody: { description: '{"name": "ci"}', contentTypes: ['application/json'] },
    responses: { 201: 'The new token with its secret' },
    async handle(ctx) {
      const body = jsonObjectBody(await ctx.body(), ['name'], 'every token is a full admin token (berth has no scopes)');
      if (typeof body.name !== 'string' || !TOKEN_NAME.test(body.name)) {
        throw new BadRequestError('name: required, 1 to 63 letters, digits, ".", "_" or "-"');
      }
      return { status: 201, body: await ctx.tokens.create(body.name) };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/tokens/{id}',
    operationId: 'revokeToken',
    summary: 'Revoke a token by id or name',
    tag: 'tokens',
    responses: { 200: 'Revoked' },
    async handle(ctx) {
      const given = ctx.params.id!;
      // Named by id or by name, the token is answered by both, as `token ls` shows it.
      const token = (await ctx.tokens.list()).find((t) => t.id === given || t.name === given);
      await ctx.tokens.revoke(given);
      return { body: { id: token?.id ?? given, name: token?.name, revoked: true } };
    },
  },
];
