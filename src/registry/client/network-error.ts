import { ErrorCode, FerryError, NetworkError } from '../../core/index.js';
import { networkErrorCode } from './retry/index.js';
import { redactUrl } from './transport/redact.js';

// A failure before any HTTP answer (DNS, refused, reset, timeout, TLS) → one
// NetworkError line with what to try. Abort errors pass through unchanged.

const TLS_VERSION = new Set(['ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_WRONG_SSL_VERSION']);
const TLS_NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const TIMEOUTS = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_') || code.startsWith('UNABLE_TO_') ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'EPROTO' || code === 'HOSTNAME_MISMATCH'
  );
}

function describe(code: string, err: Error): { message: string; code: ErrorCode; hint?: string } {
  if (TLS_VERSION.has(code) || (code === 'EPROTO' && /version/i.test(err.message))) {
    return { code: ErrorCode.tls, message: 'TLS handshake failed: no common protocol version', hint: 'the registry must offer TLS 1.2 or newer' };
  }
  if (TLS_NOT_TLS.has(code)) {
    return { code: ErrorCode.tls, message: 'TLS handshake failed: the server did not answer in TLS', hint: 'is this a plain-HTTP registry? use --plain-http (loopback only)' };
  }
  if (isTlsCode(code)) {
    return {
      code: ErrorCode.tls,
      message: `TLS handshake failed: ${code}`,
      hint: 'the registry must offer TLS 1.2 or newer with a trusted certificate: pass its CA with --ca-cert FILE (or --tls-verify=false for a test registry)',
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { code: ErrorCode.network, message: 'cannot resolve the registry host', hint: 'check the registry name and DNS' };
  }
  if (code === 'ECONNREFUSED') return { code: ErrorCode.network, message: 'connection refused', hint: 'is the registry running and listening on that host and port?' };
  if (TIMEOUTS.has(code)) return { code: ErrorCode.timeout, message: `timed out (${code})`, hint: 'the registry or the network is slow or unreachable; check firewalls and proxies' };
  return { code: ErrorCode.network, message: `connection failed (${code})`, hint: 'the connection dropped; try again' };
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

/** Maps a thrown network error to a FerryError; FerryErrors and aborts are returned unchanged. */
export function networkError(method: string, url: URL, err: unknown): unknown {
  if (err instanceof FerryError || isAbortError(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = networkErrorCode(e) ?? 'UNKNOWN';
  const d = describe(code, e);
  const detail = /^[A-Za-z0-9 _.:'-]{1,160}$/.test(e.message) && !d.message.includes(e.message) ? `: ${e.message}` : '';
  return new NetworkError(`${method} ${redactUrl(url)}: ${d.message}${detail}`, { code: d.code, hint: d.hint, cause: err });
}
