/**
 * The server's ConnectionGate: TLS-only v1, the legacy policy, and identity
 * at HELLO (client certificate CN, else token). Refusals never carry or log
 * the token; failed token checks from one address are slowed down.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TLSSocket } from 'node:tls';
import type { Admission, ConnectionGate, HelloClaim, Refusal } from '../accept/gate.js';
import { ErrorCode, type WireProtocol } from '../framing/index.js';
import { peerText } from '../log/peer-text.js';
import { NAME_PATTERN, type ClientEntry, type Credentials } from './credentials.js';
import { describeLegacyPolicy, type LegacyPolicy } from './legacy-policy.js';
import { CheckSlots, DEFAULT_CHECK_SLOT_LIMITS, type CheckSlotLimits, type CheckSlotStats } from './check-slots.js';
import { FailureThrottle } from './throttle.js';
import { DECOY_HASH, parseToken, verifySecret } from './token.js';

export interface AuthGateOptions {
  /** Token identities (`--auth FILE`); replaced on reload. */
  credentials?: Credentials;
  /** mTLS is configured: a verified client certificate's CN is an identity. */
  clientCertificates: boolean;
  /** TLS is configured: plain-text v1 is refused with TlsRequired. */
  tlsRequired: boolean;
  legacy: LegacyPolicy;
  throttle?: FailureThrottle;
  /** Token checks at once, and pending per address (default DEFAULT_CHECK_SLOT_LIMITS). */
  checkLimits?: CheckSlotLimits;
  /** Counts refusals by cause (metrics). */
  onRefused?(cause: string): void;
}

const refusal = (code: Refusal['code'], cause: string, reason: string): Refusal => ({ code, cause, reason });

/** Where a token check comes from: the slots share checks between addresses and drop those of connections that left. */
interface CheckRequest {
  address?: string;
  gone?: AbortSignal;
  alive?: () => boolean;
}

const GONE = refusal(ErrorCode.Unauthorized, 'gone', 'the connection closed before its check');
/** Refusals that say nothing about the token: they neither slow the address down nor clear it. */
const NOT_A_VERDICT = new Set(['bad-certificate-name', 'gone', 'checks-per-ip']);

export class AuthGate implements ConnectionGate {
  private credentials: Credentials | undefined;
  private readonly throttle: FailureThrottle;
  /** sha256(token) -> identity, for tokens already checked: a reconnect does not pay scrypt again. */
  private verified = new Map<string, string>();
  private readonly slots: CheckSlots;

  constructor(private readonly options: AuthGateOptions) {
    this.credentials = options.credentials;
    this.throttle = options.throttle ?? new FailureThrottle();
    this.slots = new CheckSlots(options.checkLimits ?? DEFAULT_CHECK_SLOT_LIMITS);
  }

  /** Token checks running, waiting, started, abandoned and refused so far (metrics, tests). */
  get checks(): CheckSlotStats {
    return this.slots.stats;
  }

  /** Identities are required when either tokens or client certificates are configured. */
  get authRequired(): boolean {
    return this.credentials !== undefined || this.options.clientCertificates;
  }

  /** SIGHUP: new identities apply to the next HELLO; open connections stay. */
  setCredentials(credentials: Credentials): void {
    this.credentials = credentials;
    this.verified = new Map();
  }

  checkProtocol(protocol: WireProtocol, socket: Socket): Refusal | undefined {
    if (protocol === 'legacy') {
      const policy = this.options.legacy;
      const allowed = policy.kind === 'allow' || (policy.kind === 'allow-from' && policy.from.has(socket.remoteAddress));
      return allowed
        ? undefined
        : this.refused(refusal(ErrorCode.Unauthorized, 'legacy-refused', `legacy protocol ${describeLegacyPolicy(policy)}; this address is not allowed`));
    }
    if (this.options.tlsRequired && !(socket instanceof TLSSocket)) {
      return this.refused(
        refusal(ErrorCode.TlsRequired, 'tls-required', 'this server takes crowdline v1 only over TLS: connect with TLS (crowdline client --tls --ca FILE)'),
      );
    }
    return undefined;
  }

  async admitHello(claim: HelloClaim, socket: Socket, gone?: AbortSignal): Promise<Admission> {
    if (!this.authRequired) return { ok: true, label: claim.camera };
    // A socket with no address is one that was reset: nothing to check, and no shared key to charge it to.
    const address = socket.remoteAddress;
    if (address === undefined || socket.destroyed) return { ok: false, refusal: GONE };
    const wait = this.throttle.delayMs(address);
    // A peer that left while it waited costs no check (a flood of HELLOs that reset at once would otherwise queue scrypt work for minutes).
    if (wait > 0) await sleep(wait, undefined, { signal: gone }).catch(() => undefined);
    if (gone?.aborted) return { ok: false, refusal: GONE };
    const identity = await this.identify(claim, socket, { address, gone, alive: () => !socket.destroyed });
    if ('code' in identity) {
      if (!NOT_A_VERDICT.has(identity.cause)) this.throttle.failed(address);
      return { ok: false, refusal: identity.cause === 'gone' ? identity : this.refused(identity) };
    }
    this.throttle.succeeded(address);
    if (identity.entry && identity.entry.role !== 'camera') {
      return {
        ok: false,
        refusal: this.refused(refusal(ErrorCode.Unauthorized, 'not-a-camera', `identity "${identity.name}" is a console ${identity.entry.role}, not a camera`)),
      };
    }
    if (identity.entry?.cameras && !identity.entry.cameras.has(claim.camera)) {
      return {
        ok: false,
        refusal: this.refused(
          refusal(ErrorCode.Unauthorized, 'camera-not-allowed', `identity "${identity.name}" may not use camera ${peerText(claim.camera)}`),
        ),
      };
    }
    // The identity's share of the workers and rate caps where its entry sets them (the site file's camera entry wins; defaults otherwise).
    const entry = identity.entry;
    const settings = { weight: entry?.weight, priority: entry?.priority, maxFps: entry?.maxFps, maxPixelRate: entry?.maxPixelRate };
    const namedCamera = entry?.cameras?.has(claim.camera) === true;
    return { ok: true, label: `${identity.name}/${claim.camera}`, identity: identity.name, settings, namedCamera };
  }

  private async identify(claim: HelloClaim, socket: Socket, request: CheckRequest): Promise<{ name: string; entry?: ClientEntry } | Refusal> {
    const cert = this.certificateName(socket);
    if (cert !== undefined) {
      if (!NAME_PATTERN.test(cert)) return refusal(ErrorCode.Unauthorized, 'bad-certificate-name', 'client certificate CN is not a valid identity name');
      // With a credentials file, it is the one list of who may connect: a CN must be in it (so removing it + SIGHUP revokes).
      const entry = this.credentials?.named(cert);
      if (this.credentials && !entry)
        return refusal(ErrorCode.Unauthorized, 'unknown-certificate', `certificate identity ${peerText(cert)} is not in the credentials file`);
      return { name: cert, entry };
    }
    if (claim.token === undefined) {
      // A certificate the TLS layer could not verify (another CA, expired, self-signed) is not "no token": say so.
      const foreign = this.unverifiedCertificate(socket);
      if (foreign) return refusal(ErrorCode.Unauthorized, 'unknown-certificate', foreign);
      return refusal(ErrorCode.Unauthorized, 'no-token', 'this server requires a token (HELLO extension, docs/protocol.md §3.1.1) or a client certificate');
    }
    const verdict = await this.verifyToken(claim.token, request);
    if (verdict === 'gone') return GONE;
    if (verdict === 'busy') {
      // ServerFull, not Unauthorized: the client retries (with backoff), and its token was never judged.
      return refusal(ErrorCode.ServerFull, 'checks-per-ip', `too many authentications in progress from your address (${this.slotLimitText()}); retry shortly`);
    }
    return verdict === undefined ? refusal(ErrorCode.Unauthorized, 'bad-token', 'token not accepted') : { name: verdict.name, entry: verdict };
  }

  private slotLimitText(): string {
    return `at most ${(this.options.checkLimits ?? DEFAULT_CHECK_SLOT_LIMITS).maxPerAddress} at once`;
  }

  /** CN of a client certificate the TLS layer verified against --tls-client-ca. */
  private certificateName(socket: Socket): string | undefined {
    if (!this.options.clientCertificates || !(socket instanceof TLSSocket) || !socket.authorized) return undefined;
    const cn = socket.getPeerCertificate().subject?.CN;
    return typeof cn === 'string' ? cn : undefined;
  }

  /** mTLS: why the certificate the client presented was not verified against --tls-client-ca (undefined: none presented, or verified). */
  private unverifiedCertificate(socket: Socket): string | undefined {
    if (!this.options.clientCertificates || !(socket instanceof TLSSocket) || socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    const cn = typeof cert.subject?.CN === 'string' ? ` ${peerText(cert.subject.CN)}` : '';
    const why = (socket.authorizationError as Error | string | undefined) ?? 'not verified';
    return `client certificate${cn} did not verify against the server's client CA (${typeof why === 'string' ? why : why.message})`;
  }

  /**
   * The identity a token belongs to (any role), or undefined. Also how the
   * console checks a sign-in, so both doors share the cache, the decoy and
   * (through the callers) the throttle.
   */
  async tokenIdentity(token: string): Promise<ClientEntry | undefined> {
    const verdict = await this.verifyToken(token, {});
    return typeof verdict === 'string' ? undefined : verdict;
  }

  /**
   * The entry a token belongs to, undefined for a wrong one; 'busy' when its
   * address has too many checks pending, 'gone' when its connection closed
   * before the check could start. A token already verified costs no check.
   */
  private async verifyToken(token: string, request: CheckRequest): Promise<ClientEntry | undefined | 'busy' | 'gone'> {
    // Taken before the await: a reload meanwhile must not let an old answer into the new cache.
    const cache = this.verified;
    const credentials = this.credentials;
    const digest = createHash('sha256').update(token).digest('hex');
    const known = cache.get(digest);
    if (known !== undefined) return credentials?.named(known);
    const slot = await this.slots.acquire(request.address, request);
    if (typeof slot === 'string') return slot;
    try {
      const parsed = parseToken(token);
      const entry = parsed && credentials?.withKey(parsed.keyId);
      // Unknown key ids pay for a decoy hash, so timing does not reveal which ids exist.
      const ok = await verifySecret(parsed?.secret ?? token, entry?.hash ?? DECOY_HASH);
      if (!ok || !entry) return undefined;
      cache.set(digest, entry.name);
      return entry;
    } finally {
      slot();
    }
  }

  /** The current entry for an identity (a console session checks its identity still exists with the same role). */
  identity(name: string): ClientEntry | undefined {
    return this.credentials?.named(name);
  }

  /** Failed sign-ins on the console count against the same address as failed HELLOs. */
  get failures(): FailureThrottle {
    return this.throttle;
  }

  private refused(r: Refusal): Refusal {
    this.options.onRefused?.(r.cause);
    return r;
  }
}
