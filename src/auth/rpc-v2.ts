/**
 * RPC signature V2 (HMAC-SHA1, `SignatureVersion=1.0`), cloudflow.md §5.1 — exactly what
 * `@alicloud/pop-core` (lib/rpc.js) and the Darabonba `getRPCSignature` compute:
 *
 *   canonical    = sorted(name) of `enc(name)=enc(value)` joined by `&` (every parameter but Signature)
 *   stringToSign = METHOD + '&' + enc('/') + '&' + enc(canonical)
 *   Signature    = base64(HMAC-SHA1(key = secret + '&', stringToSign))
 *
 * Names are sorted by their decoded text (UTF-16 code units, like the SDKs' `Object.keys().sort()`).
 */
import { createHmac } from 'node:crypto';
import { percentEncode } from './encoding.js';

/** Parameters of a V2 request: decoded names and values (one value per name). */
export type RpcParams = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

function entriesOf(params: RpcParams): [string, string][] {
  return params instanceof Map ? [...(params as ReadonlyMap<string, string>).entries()] : Object.entries(params as Readonly<Record<string, string>>);
}

/** The canonicalized query string of §5.1 step 3; `Signature` is left out. */
export function canonicalRpcQuery(params: RpcParams): string {
  return entriesOf(params)
    .filter(([name]) => name !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
}

/** `METHOD&%2F&enc(canonical)`; the method is upper-cased (as pop-core does). */
export function rpcStringToSign(params: RpcParams, method: string): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalRpcQuery(params))}`;
}

/** The V2 `Signature` value (base64) of `params` (any `Signature` among them is ignored). */
export function signRpcRequest(params: RpcParams, method: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(rpcStringToSign(params, method), 'utf8').digest('base64');
}
