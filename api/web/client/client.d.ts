// TypeScript declarations for Signet's browser client, /auth/client.js.

/** Signet's user, as GET /auth/me answers. */
export interface User {
  email: string;
  created_at: string;
  last_login: string;
  email_verified: boolean;
  groups: string[];
  [member: string]: unknown;
}

export interface Provider {
  name: string;
  kind: string;
  display_name: string;
  /** Where a browser starts the redirect flow; null for providers without one. */
  start_url: string | null;
}

export interface EmailSent {
  /** The address as Signet spells it. */
  email: string;
  /** Seconds the code and the link work for. */
  expires_in: number;
}

export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used: string | null;
  backed_up: boolean;
  transports: string[];
}

export interface Session {
  id: string;
  created_at: string;
  last_seen: string;
  user_agent: string | null;
  /** The user agent in words: "Chrome on Linux". */
  device: string | null;
  address: string | null;
  /** Whether this client's session is this one. */
  current: boolean;
  /** How its token travels. */
  kind: "cookie" | "bearer";
}

/** An RFC 9457 problem document. */
export interface Problem {
  type?: string;
  status?: number;
  title?: string;
  detail?: string;
  [member: string]: unknown;
}

/** A refusal from Signet, or status 0 when no answer came. */
export class SignetError extends Error {
  constructor(problem: Problem, options?: { cause?: unknown });
  readonly name: "SignetError";
  readonly type: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly problem: Problem;
}

export interface SignetOptions {
  /** Signet's origin (and path prefix, if any); "" for the page's own origin. */
  baseUrl?: string;
  /** "cookie" (the default) or "bearer": the token in memory, sent as Authorization. */
  transport?: "cookie" | "bearer";
}

export interface Signet {
  /** Who is signed in; null when nobody is. Throws SignetError on a refusal (403). */
  me(): Promise<User | null>;
  providers(): Promise<Provider[]>;
  /** Go to the provider's page (the redirect flow). Throws SignetError with bearer tokens. */
  signInWith(provider: string | { name: string }, options?: { returnTo?: string }): void;
  /** Sign in with an assertion from an identity provider's own script. */
  signInWithAssertion(assertion: string, options?: { provider?: string }): Promise<User>;
  email: {
    start(address: string, options?: { returnTo?: string }): Promise<EmailSent>;
    verify(address: string, code: string): Promise<User>;
  };
  passkeys: {
    register(options?: { name?: string }): Promise<Passkey>;
    signIn(options?: { conditional?: boolean; signal?: AbortSignal }): Promise<User>;
    list(): Promise<Passkey[]>;
    rename(id: string, name: string): Promise<Passkey>;
    remove(id: string): Promise<void>;
  };
  sessions: {
    list(): Promise<Session[]>;
    end(id: string): Promise<void>;
  };
  signOut(): Promise<void>;
  signOutEverywhere(): Promise<void>;
  /** Calls back with the user on signing in, null on signing out; returns an unsubscribe. */
  onChange(callback: (user: User | null) => void): () => void;
  /** The bearer token, for the app's own API; null when signed out or with cookies. */
  accessToken(): string | null;
}

export function createSignet(options?: SignetOptions): Signet;
