/**
 * Request authentication: AccessKey files, RPC signature V2 (HMAC-SHA1) and ACS3-HMAC-SHA256
 * verification, replay protection. Framework-neutral; see README.md beside this file.
 */
export { AccessKey, AccessKeyStore, INVALID_ACCESS_KEYS, accessKeysSchema, loadAccessKeys, parseAccessKeys } from './keys.js';
export type { AccessKeyEntry, AccessKeyLookup } from './keys.js';
export { NonceCache, DEFAULT_NONCE_CACHE_ENTRIES, MAX_NONCE_LENGTH } from './nonce-cache.js';
export type { NonceCacheOptions } from './nonce-cache.js';
export { verifyRequest, DEFAULT_MAX_SKEW_MS, RPC_REQUIRED_PARAMS, ACS3_REQUIRED_HEADERS } from './verify.js';
export type { SignedRequest, VerifyOptions, VerifiedCaller, SignatureScheme } from './verify.js';
export { signRpcRequest, rpcStringToSign, canonicalRpcQuery } from './rpc-v2.js';
export type { RpcParams } from './rpc-v2.js';
export {
  ACS3_ALGORITHM,
  signAcs3Request,
  acs3CanonicalRequest,
  acs3CanonicalQuery,
  acs3CanonicalUri,
  acs3StringToSign,
  acs3Signature,
  parseAcs3Authorization,
} from './acs3.js';
export type { Acs3SignInput, Acs3Signed, Acs3Authorization, Acs3CanonicalInput } from './acs3.js';
export { percentEncode, parseUrlEncoded, formatTimestamp, parseTimestamp, constantTimeEqual } from './encoding.js';
export { AUTH_ERRORS, authError } from './errors.js';
export type { AuthErrorCode, AuthErrorSpec } from './errors.js';
