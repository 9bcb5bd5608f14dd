// Groups and their targets: servers, the VIP, target URLs (https://, or plain http:// behind a TLS-offloading
// load balancer) and the offloaded certificate's fingerprint.

import { PROBE_KEYS, readProbeOverrides } from './probe-settings.js';
import { type RawGroup, type RawTarget } from './raw.js';
import {
  got,
  indexPath,
  Issues,
  keyPath,
  readBoolean,
  readHostname,
  readMapping,
  readName,
  required,
  show,
} from './readers.js';

/** Why a target URL is unacceptable, or null when it is an http(s) URL of a host and optional port. */
function targetUrlProblem(value: unknown): string | null {
  const text = typeof value === 'string' ? value.trim() : '';
  let url: URL | undefined;
  try {
    if (/^https?:\/\//i.test(text)) url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '') return `must be an http(s) URL ${got(value)}`;
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    return `must be scheme, host and port only; the probe's path comes from "path" ${got(value)}`;
  }
  return null;
}

/**
 * The target's URL and whether TLS is offloaded. Decision: http:// must be confirmed with
 * `offload: true` (and `offload: true` needs http://). A plain-HTTP probe of an SSTP server is only
 * right behind a load balancer that ends TLS; an unconfirmed http:// is far more often a typo for
 * https://, and probing it would silently skip the certificate checks.
 */
function readTargetUrl(
  value: unknown,
  urlPath: string,
  offloadValue: unknown,
  offloadPath: string | null, // null: the short form (`vip: URL`) has no offload key
  issues: Issues,
): { url?: string; offload: boolean } {
  const offload = offloadPath === null ? undefined : readBoolean(offloadValue, offloadPath, issues);
  if (!required(value, urlPath, issues)) return { offload: offload ?? false };
  const problem = targetUrlProblem(value);
  if (problem !== null) {
    issues.add(urlPath, problem);
    return { offload: offload ?? false };
  }
  const url = (value as string).trim();
  const plain = url.toLowerCase().startsWith('http://');
  if (plain && offload !== true) {
    const confirm = offloadPath === null ? `write { url: ${JSON.stringify(url)}, offload: true }` : 'set "offload: true"';
    issues.add(
      urlPath,
      `plain http:// means TLS is offloaded at the load balancer: ${confirm} to confirm, or use https:// ${got(url)}`,
    );
  } else if (!plain && offload === true && offloadPath !== null) {
    issues.add(
      offloadPath,
      `true needs an http:// url: with offload the load balancer ends TLS and forwards plain HTTP (url is ${show(url)})`,
    );
  }
  return { url, offload: plain };
}


const TARGET_KEYS = ['name', 'url', 'offload', ...PROBE_KEYS] as const;
const GROUP_KEYS = ['name', 'hostname', 'vip', 'servers', 'offload_cert_sha256', ...PROBE_KEYS] as const;

/**
 * `offload_cert_sha256`: the SHA-256 of the certificate the load balancer presents, as configured on every
 * offloaded RRAS server (`SHA256CertificateHash`, `Enable-SstpOffload -CertificateHash` of the AOVPNTools PowerShell module). Written as Windows
 * or OpenSSL print it: any case, with or without colons or spaces.
 */
export function normalizeSha256(text: string): string | null {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex : null;
}

function readOffloadCertSha256(value: unknown, path: string, issues: Issues): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') {
    issues.add(path, `must be quoted: YAML read these digits as a number ${got(String(value))}`);
    return undefined;
  }
  const hash = typeof value === 'string' ? normalizeSha256(value) : null;
  if (hash === null) {
    issues.add(
      path,
      `must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) ${got(value)}`,
    );
    return undefined;
  }
  return hash;
}

function readServer(value: unknown, path: string, issues: Issues): RawTarget | undefined {
  const entry = readMapping(value, path, TARGET_KEYS, issues);
  if (entry === undefined) return undefined;
  const name = readName(entry['name'], keyPath(path, 'name'), issues);
  const target: RawTarget = {
    path,
    namePath: keyPath(path, 'name'),
    ...readTargetUrl(entry['url'], keyPath(path, 'url'), entry['offload'], keyPath(path, 'offload'), issues),
    probe: readProbeOverrides(entry, path, issues),
  };
  if (name !== undefined) target.name = name;
  return target;
}

/** `vip: https://...` or `vip: { name, url, ... }`; the VIP target is named `<group>-vip` unless named. */
function readVip(value: unknown, path: string, groupName: string | undefined, issues: Issues): RawTarget | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const name = vipName(groupName);
    const target: RawTarget = {
      path,
      namePath: path,
      ...readTargetUrl(value, path, undefined, null, issues),
      probe: { tls: {} },
    };
    if (name !== undefined) target.name = name;
    return target;
  }
  const entry = readMapping(value, path, TARGET_KEYS, issues);
  if (entry === undefined) return undefined;
  const name = entry['name'] === undefined ? vipName(groupName) : readName(entry['name'], keyPath(path, 'name'), issues);
  const target: RawTarget = {
    path,
    namePath: entry['name'] === undefined ? path : keyPath(path, 'name'),
    ...readTargetUrl(entry['url'], keyPath(path, 'url'), entry['offload'], keyPath(path, 'offload'), issues),
    probe: readProbeOverrides(entry, path, issues),
  };
  if (name !== undefined) target.name = name;
  return target;
}

function vipName(groupName: string | undefined): string | undefined {
  return groupName === undefined ? undefined : `${groupName}-vip`;
}

function readServers(value: unknown, path: string, issues: Issues): RawTarget[] {
  if (!required(value, path, issues)) return [];
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, `must list at least one RRAS server ${got(value)}`);
    return [];
  }
  return value
    .map((server, i) => readServer(server, indexPath(path, i), issues))
    .filter((server): server is RawTarget => server !== undefined);
}

function readGroup(value: unknown, path: string, issues: Issues): RawGroup | undefined {
  const entry = readMapping(value, path, GROUP_KEYS, issues);
  if (entry === undefined) return undefined;
  // Read in the order the keys are usually written, so that messages follow the file.
  const name = readName(entry['name'], keyPath(path, 'name'), issues);
  const hostname = readHostname(entry['hostname'], keyPath(path, 'hostname'), issues);
  const vip = readVip(entry['vip'], keyPath(path, 'vip'), name, issues);
  const probe = readProbeOverrides(entry, path, issues);
  const group: RawGroup = { path, servers: readServers(entry['servers'], keyPath(path, 'servers'), issues), probe };
  if (name !== undefined) group.name = name;
  if (hostname !== undefined) group.hostname = hostname;
  const offloadCertSha256 = readOffloadCertSha256(entry['offload_cert_sha256'], keyPath(path, 'offload_cert_sha256'), issues);
  if (offloadCertSha256 !== undefined) group.offloadCertSha256 = offloadCertSha256;
  if (vip !== undefined) group.vip = vip;
  return group;
}

/** Groups may be absent or empty only in demo mode, where the built-in simulated servers are probed. */
export function readGroups(value: unknown, demo: boolean, issues: Issues): RawGroup[] {
  const absent = value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (absent) {
    if (!demo) {
      issues.add('groups', 'no groups configured; add a group, or set "demo: true" to probe built-in simulated servers');
    }
    return [];
  }
  if (!Array.isArray(value)) {
    issues.add('groups', `must be a list of groups ${got(value)}`);
    return [];
  }
  return value
    .map((group, i) => readGroup(group, indexPath('groups', i), issues))
    .filter((group): group is RawGroup => group !== undefined);
}
