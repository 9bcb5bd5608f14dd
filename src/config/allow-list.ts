// Which targets `GET /probe` may reach, so sstpwatch cannot be used to scan a network: CIDRs and addresses
// are matched against the address the probe will connect to (after DNS), host names and `*.domain`
// wildcards against the name in the URL.
import { BlockList, isIP } from 'node:net';

export type AllowEntry =
  | { kind: 'subnet'; address: string; prefix: number; family: 'ipv4' | 'ipv6' }
  | { kind: 'host'; name: string }
  | { kind: 'wildcard'; suffix: string };

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** One `allow:` entry, or the reason it is not one. */
export function parseAllowEntry(text: string): AllowEntry | string {
  const value = text.trim().toLowerCase();
  const slash = value.indexOf('/');
  if (slash >= 0) {
    const address = value.slice(0, slash);
    const prefixText = value.slice(slash + 1);
    const version = isIP(address);
    const max = version === 6 ? 128 : 32;
    if (version === 0) return 'a CIDR needs an IP address before the "/"';
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `the prefix length must be 0 to ${max}`;
    return { kind: 'subnet', address, prefix: Number(prefixText), family: version === 6 ? 'ipv6' : 'ipv4' };
  }
  const version = isIP(value.replace(/^\[|\]$/g, ''));
  if (version !== 0) {
    const address = value.replace(/^\[|\]$/g, '');
    return { kind: 'subnet', address, prefix: version === 6 ? 128 : 32, family: version === 6 ? 'ipv6' : 'ipv4' };
  }
  if (value.startsWith('*.')) {
    const suffix = value.slice(2);
    return isHostName(suffix) ? { kind: 'wildcard', suffix } : 'a wildcard must look like *.example.com';
  }
  return isHostName(value) ? { kind: 'host', name: value } : 'must be a CIDR, an address or a host name';
}

function isHostName(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => HOST_LABEL.test(label));
}

export class AllowList {
  private readonly subnets = new BlockList();
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];

  /** Entries must have been validated by parseAllowEntry (the config loader does). */
  constructor(entries: readonly string[]) {
    for (const text of entries) {
      const entry = parseAllowEntry(text);
      if (typeof entry === 'string') throw new Error(`invalid allow entry ${JSON.stringify(text)}: ${entry}`);
      if (entry.kind === 'subnet') this.subnets.addSubnet(entry.address, entry.prefix, entry.family);
      else if (entry.kind === 'host') this.hosts.add(entry.name);
      else this.suffixes.push(entry.suffix);
    }
  }

  /** A host name from a URL: listed exactly, or under a listed wildcard (one or more labels deep). */
  allowsName(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.has(name) || this.suffixes.some((suffix) => name.endsWith(`.${suffix}`));
  }

  /** An address the probe would connect to. */
  allowsAddress(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    return this.subnets.check(address, version === 6 ? 'ipv6' : 'ipv4');
  }
}

/** Addresses an allow list should not reach by accident: this host, and link-local (cloud metadata at 169.254.169.254). */
const SENSITIVE: { what: string; address: string; family: 'ipv4' | 'ipv6' }[] = [
  { what: 'loopback (services on the sstpwatch host itself)', address: '127.0.0.1', family: 'ipv4' },
  { what: 'loopback (services on the sstpwatch host itself)', address: '::1', family: 'ipv6' },
  { what: 'link-local addresses (169.254.169.254 is the cloud metadata service)', address: '169.254.169.254', family: 'ipv4' },
  { what: 'link-local addresses (169.254.169.254 is the cloud metadata service)', address: 'fe80::1', family: 'ipv6' },
];

/**
 * Warnings for `probe_endpoint.allow` entries that let /probe reach everything, this host or link-local addresses:
 * valid, but rarely meant (a stranger who can call /probe could then probe services on this host). One per entry.
 */
export function allowListWarnings(entries: readonly string[]): string[] {
  const warnings: string[] = [];
  for (const text of entries) {
    const entry = parseAllowEntry(text);
    if (typeof entry === 'string') continue;
    const quoted = JSON.stringify(text);
    if (entry.kind === 'host' && (entry.name === 'localhost' || entry.name.endsWith('.localhost'))) {
      warnings.push(`probe_endpoint.allow: ${quoted} allows loopback (services on the sstpwatch host itself)`);
      continue;
    }
    if (entry.kind !== 'subnet') continue;
    if (entry.prefix === 0) {
      warnings.push(`probe_endpoint.allow: ${quoted} allows every ${entry.family === 'ipv6' ? 'IPv6' : 'IPv4'} address: /probe can reach anything sstpwatch can`);
      continue;
    }
    const list = new BlockList();
    list.addSubnet(entry.address, entry.prefix, entry.family);
    const reached = SENSITIVE.find((s) => s.family === entry.family && list.check(s.address, s.family));
    if (reached) warnings.push(`probe_endpoint.allow: ${quoted} allows ${reached.what}`);
  }
  return warnings;
}
