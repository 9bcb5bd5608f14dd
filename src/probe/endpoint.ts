// Where a target is reached: its URL's host and port, TLS or not, the public name for SNI, the Host header and the
// certificate name check. Parsed once per target by the transport, not once per probe.
import net from 'node:net';
import { unsafeRequestHead } from './header-value.js';
import type { ProbeTarget } from './types.js';

/** The Host header value: the name, bracketed if IPv6, with the port unless it is the scheme's default. */
export function hostHeader(hostname: string, port: number, defaultPort: number): string {
  const host = net.isIPv6(hostname) ? `[${hostname}]` : hostname;
  return port === defaultPort ? host : `${host}:${port}`;
}

export interface Endpoint {
  host: string;
  port: number;
  /** No TLS: offload, or an http: URL. */
  plain: boolean;
  /** The group's public name: SNI, Host header and certificate name check. */
  name: string;
  hostHeader: string;
}

function endpointOf(target: ProbeTarget): Endpoint {
  const url = new URL(target.url);
  const plain = target.offload || url.protocol === 'http:';
  const defaultPort = url.protocol === 'http:' ? 80 : 443;
  const port = url.port ? Number(url.port) : defaultPort;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new TypeError('no host in the URL');
  const name = target.hostname || host;
  return { host, port, plain, name, hostHeader: hostHeader(name, port, defaultPort) };
}

/** A target's endpoint, the fields it was made from, and why its request head is unsafe to send (or null). */
export interface TargetAddress {
  of: Pick<ProbeTarget, 'url' | 'hostname' | 'offload'> & { path: string };
  endpoint: Endpoint;
  unsafe: string | null;
}

export function targetAddress(target: ProbeTarget): TargetAddress {
  const endpoint = endpointOf(target);
  const { url, hostname, offload, settings } = target;
  // The Host header is also the SNI; the path goes into the request line.
  const unsafe = unsafeRequestHead({ path: settings.path, 'Host header': endpoint.hostHeader });
  return { of: { url, hostname, offload, path: settings.path }, endpoint, unsafe };
}

export function sameAddress(of: TargetAddress['of'], target: ProbeTarget): boolean {
  return of.url === target.url && of.hostname === target.hostname && of.offload === target.offload && of.path === target.settings.path;
}

