/**
 * A software passkey authenticator for HTTP-level tests: it makes real ES256 credentials and real signatures
 * (the server verifies them with @simplewebauthn/server as it would a browser's), and can misbehave on
 * purpose: no user verification, another origin, a counter that goes backwards. The browser tests use
 * Chromium's own virtual authenticator instead.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

interface Credential {
  id: Uint8Array<ArrayBuffer>;
  privateKey: KeyObject;
  userHandle: string;
  counter: number;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface RequestOptions {
  challenge: string;
  allowCredentials?: { id: string }[];
}

export interface Misbehaviour {
  /** Clear the user-verified flag. */
  noUserVerification?: boolean;
  /** Claim this origin in the client data. */
  origin?: string;
  /** Report this signature counter instead of the next one. */
  counter?: number;
  /** Sign with this credential (by base64url id) rather than the first allowed. */
  credentialId?: string;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];

  constructor(
    readonly origin = 'http://localhost:8000',
    readonly rpId = 'localhost',
  ) {}

  /** Answers registration options as `startRegistration()` would. */
  register(options: CreationOptions, misbehave: Misbehaviour = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const credential: Credential = {
      id: new Uint8Array(randomBytes(32)),
      privateKey,
      userHandle: options.user.id,
      counter: 0,
    };
    this.credentials.push(credential);
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, isoBase64URL.toBuffer(jwk.x!)],
      [-3, isoBase64URL.toBuffer(jwk.y!)],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([
      this.header(misbehave, FLAG_AT, 0),
      Buffer.alloc(16),
      idLength,
      credential.id,
      isoCBOR.encode(coseKey),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const id = isoBase64URL.fromBuffer(credential.id);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, misbehave),
        attestationObject: isoBase64URL.fromBuffer(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Answers authentication options as `startAuthentication()` would (a discoverable credential if none is listed). */
  authenticate(options: RequestOptions, misbehave: Misbehaviour = {}) {
    const allowed = options.allowCredentials?.map((c) => c.id);
    const wanted = misbehave.credentialId;
    const credential = this.credentials.find((c) => {
      const id = isoBase64URL.fromBuffer(c.id);
      return wanted ? id === wanted : !allowed?.length || allowed.includes(id);
    });
    if (!credential) throw new Error('no credential for these options');
    credential.counter += 1;
    const authData = this.header(misbehave, 0, misbehave.counter ?? credential.counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, misbehave);
    const clientDataHash = createHash('sha256').update(isoBase64URL.toBuffer(clientDataJSON)).digest();
    const signature = new Uint8Array(
      sign('sha256', Buffer.concat([authData, clientDataHash]), credential.privateKey),
    );
    const id = isoBase64URL.fromBuffer(credential.id);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: isoBase64URL.fromBuffer(new Uint8Array(authData)),
        signature: isoBase64URL.fromBuffer(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private header(misbehave: Misbehaviour, extraFlags: number, counter: number): Buffer {
    const rpIdHash = createHash('sha256').update(this.rpId).digest();
    const flags = FLAG_UP | (misbehave.noUserVerification ? 0 : FLAG_UV) | extraFlags;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([rpIdHash, Buffer.from([flags]), count]);
  }

  private clientData(type: string, challenge: string, misbehave: Misbehaviour): string {
    const json = JSON.stringify({
      type,
      challenge,
      origin: misbehave.origin ?? this.origin,
      crossOrigin: false,
    });
    return isoBase64URL.fromUTF8String(json);
  }
}
