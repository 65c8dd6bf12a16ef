/**
 * Why a request's Transfer-Encoding cannot be forwarded, or undefined when it
 * can (none, or `chunked` alone). Node's parser decodes `chunked` and nothing
 * else, and berth sends the body on chunked again without the client's header
 * (Transfer-Encoding is hop-by-hop): any other coding in the list (`gzip,
 * chunked`) would be dropped with it, and the app would take the coded bytes
 * for the body. Some (`identity`) Node lets through only to fail on the body,
 * after the head went to the app. RFC 9112 §6.1 lets a server refuse a coding
 * it does not understand; nginx and HAProxy do, and so does berth, before
 * anything is sent. Node joins repeated fields with ", ", so `gzip` and
 * `chunked` on two lines are refused too.
 */
export function transferCodingRefusal(value: string | undefined): string | undefined {
  if (value === undefined || value.toLowerCase() === 'chunked') return undefined;
  return `the request body has a transfer coding other than chunked (Transfer-Encoding: ${JSON.stringify(value)}), which berth does not decode`;
}
