// Pure: a probe result -> what it means for an SSTP VPN and what an admin can do about it.
// Used by `sstpwatch check` and the status page.
import { certLevel, formatDays, isSlow, type Thresholds } from '../config/policy.js';
import { daysLeft } from './certificate.js';
import { diagnoseSstp } from './sstp-diagnose.js';
import type { ProbeResult } from './types.js';

/** Where it went wrong; `certificate` and `slow` are warnings on an up target; `monitor`: the failure is
 * sstpwatch's own (error kind monitor_error), on the monitoring host. */
export type DiagnosisPhase = 'dns' | 'connect' | 'tls' | 'http' | 'certificate' | 'slow' | 'sstp' | 'monitor';

export interface Diagnosis {
  verdict: 'up' | 'down';
  headline: string;
  /** Where it went wrong; null when up. */
  phase: DiagnosisPhase | null;
  explanation: string;
  fix: string | null;
}

export interface DiagnoseContext {
  url: string;
  /** The group's public name. */
  hostname: string;
  offload: boolean;
  /** For certificate expiry warnings; default Date.now(). */
  now?: number;
  /** The target's thresholds (config/policy.ts): when a certificate asks for renewal, when a probe is slow. */
  thresholds: Thresholds;
}

const SSTP_URL_RESERVATION = 'https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
const BIND_CERTIFICATE =
  'bind it to SSTP in the RRAS console (server Properties > Security > Certificate) or with ' +
  'Set-RemoteAccess -SslCertificate, restart the Remote Access service, and check the binding with netsh http show sslcert';

interface Where {
  host: string;
  port: number;
  hostname: string;
  offload: boolean;
}

export function diagnose(result: ProbeResult, ctx: DiagnoseContext): Diagnosis {
  const where = whereOf(ctx);
  const deep = result.sstp || result.errorKind.startsWith('sstp_') ? diagnoseSstp(result) : null;
  if (deep && deep.verdict === 'down') return { ...deep, phase: 'sstp' };
  switch (result.errorKind) {
    case 'ok':
      {
        // slow_threshold is about the HEAD check; a deep check's several round trips take longer by design.
        const verdict = up(result, where, ctx.now ?? Date.now(), ctx.thresholds, !deep);
        // An expiring certificate or a slow answer outranks the deep check's good news.
        if (!deep || verdict.phase !== null) return verdict;
        // An accepted call may still carry a fix (a SHA-1-only crypto binding offer).
        return { ...verdict, headline: deep.headline, explanation: deep.explanation, ...(deep.fix ? { fix: deep.fix } : {}) };
      }
    case 'sstp_http_status':
    case 'sstp_no_response':
    case 'sstp_nak':
    case 'sstp_abort':
    case 'sstp_bad_frame':
    case 'sstp_no_sha256':
      // Only deep checks report these; diagnoseSstp above explains them all.
      return down('sstp', result.errorKind, result.message, 'Run sstpwatch check --sstp for the stage-by-stage explanation.');
    case 'unexpected_status':
      return unexpectedStatus(result.statusCode ?? 0);
    case 'http_version':
      return down('http', `answered HTTP/${result.httpVersion ?? '?'}: not HTTP.sys`,
        'RRAS listens through HTTP.sys, which answers an HTTP/1.1 request with an HTTP/1.1 status line. ' +
          'Another HTTP/1.x reply means something else answers on this port: a proxy, a load balancer ' +
          "responding on its own, or another web server. SSTP clients need HTTP/1.1 end to end.",
        'Find what owns the port (netsh http show servicestate on the server; the virtual service on the load ' +
          'balancer) and make the traffic reach RRAS.');
    case 'http_protocol':
      return httpProtocol(result.message, where);
    case 'timeout':
      return timeout(result, where);
    case 'dns':
      return dns(result.message, where);
    case 'connect_refused':
      return down('connect', `connection refused on ${where.host}:${where.port}`,
        `The host is up but nothing accepts TCP ${where.port}: the Remote Access service or HTTP.sys is not ` +
          'listening, the SSTP listener was moved to another port (SstpSvc\\Parameters\\ListenerPort), ' +
          'or a host firewall rejects the connection.',
        `Check the port in the URL; on the server, Get-Service RemoteAccess and netstat -ano | findstr :${where.port}.`);
    case 'connect_reset':
      return connectReset(result, where);
    case 'network':
      return down('connect', `no route to ${where.host}`,
        `The monitoring host has no route to ${where.host} (host or network unreachable): the server's network ` +
          'is down, routing is broken, or a firewall answers with an ICMP unreachable.',
        `Check routing and firewalls between this monitoring host and ${where.host}.`);
    case 'tls_handshake':
      return tlsHandshake(result.message, where);
    case 'cert_expired':
      return down('certificate', 'certificate expired',
        `${result.message}. SSTP clients refuse it with error 0x800B0101 (CERT_E_EXPIRED, RasClient event 20227): ` +
          'nobody can connect through this server.',
        `Renew the certificate for ${where.hostname}, then ${BIND_CERTIFICATE}.${offloadHashNote(where)}`);
    case 'cert_not_yet_valid':
      return down('certificate', 'certificate not valid yet',
        `${result.message}. Either a renewed certificate was bound before its start date, or the clock of the ` +
          'server or of this monitoring host is wrong. Clients refuse it.',
        'Check both clocks (w32tm /query /status); keep the previous certificate bound until the new one is valid.');
    case 'cert_hostname_mismatch':
      return down('certificate', `certificate does not carry ${where.hostname}`,
        `The certificate bound to SSTP does not carry the public name ${where.hostname} in its subject alternative ` +
          `names (${result.message}). Clients connecting to ${where.hostname} refuse it.`,
        `Bind the certificate issued for ${where.hostname}: ${BIND_CERTIFICATE}. If ${where.hostname} is not the ` +
          "public VPN name, correct the group's hostname in the sstpwatch config.");
    case 'cert_untrusted':
      return certUntrusted(result.message, where);
    case 'monitor_error':
      return {
        verdict: 'down',
        headline: 'sstpwatch could not probe: the failure is on this host, not the target',
        phase: 'monitor',
        explanation: `${result.message}. Nothing was learned about ${where.host}:${where.port}.`,
        fix: 'Raise the open-files limit of sstpwatch (LimitNOFILE in its systemd unit, ulimit -n), look for what holds descriptors or memory on this host, and try again.',
      };
  }
}

function whereOf(ctx: DiagnoseContext): Where {
  let host = ctx.url;
  let port = ctx.offload ? 80 : 443;
  try {
    const url = new URL(ctx.url);
    host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  } catch {
    // keep the URL as given
  }
  return { host, port, hostname: ctx.hostname || host, offload: ctx.offload };
}

function down(phase: DiagnosisPhase, headline: string, explanation: string, fix: string | null): Diagnosis {
  return { verdict: 'down', headline, phase, explanation, fix };
}

function up(result: ProbeResult, where: Where, now: number, thresholds: Thresholds, judgeSpeed: boolean): Diagnosis {
  const headline = `SSTP listener answers ${result.statusCode} on HTTP/1.1`;
  const base =
    'HTTP.sys answered the SSTP health check the way RRAS does when the SSTP listener is bound: a load balancer ' +
    'would mark this server healthy.';
  const cert = result.certificate;
  const level = cert ? certLevel(cert.notAfter, now, thresholds.certificates) : 'ok';
  if (cert && level !== 'ok') {
    const left = daysLeft(cert.notAfter, now);
    const expiry = new Date(cert.notAfter).toISOString();
    const limit = level === 'critical' ? thresholds.certificates.criticalDays : thresholds.certificates.warnDays;
    return {
      verdict: 'up',
      headline: `${headline}; certificate expires in ${left} day${left === 1 ? '' : 's'} (${level}: under ${formatDays(limit)})`,
      phase: 'certificate',
      explanation: `${base} The certificate expires on ${expiry}; from then on clients fail with 0x800B0101.`,
      fix: `Renew the certificate for ${where.hostname} before ${expiry}, then ${BIND_CERTIFICATE}.${offloadHashNote(where)}`,
    };
  }
  if (judgeSpeed && isSlow(result.durationMs, thresholds)) {
    return {
      verdict: 'up',
      headline: `${headline}, but slowly: ${formatMs(result.durationMs)} (slow above ${formatMs(thresholds.slowThresholdMs)})`,
      phase: 'slow',
      explanation:
        `${base} The whole check took ${formatMs(result.durationMs)}, more than the slow_threshold of ${formatMs(thresholds.slowThresholdMs)}: ` +
        'users see slow or failing connects before the server goes down. The timings below say where the time goes: ' +
        'connect (network path), tls (handshake: server CPU), processing (HTTP.sys and RRAS answering).',
      fix: 'Check CPU and memory on the RRAS server (Get-Counter "\\Processor(_Total)\\% Processor Time"), the number of SSTP connections (Get-RemoteAccessConnectionStatistics), and the network path.',
    };
  }
  return { verdict: 'up', headline, phase: null, explanation: base, fix: null };
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 10) / 100} s` : `${Math.round(ms)} ms`;
}

function unexpectedStatus(status: number): Diagnosis {
  if (status === 404 || status === 503) {
    return down('http', `SSTP listener not bound: HTTP.sys answers ${status}`,
      `HTTP.sys answers on this port, but the SSTP listener is not bound (RRAS answers 401 when it is): the Remote ` +
        'Access service is stopped, SSTP is disabled on this server, or the URL reservation is missing. ' +
        `(That RRAS answers 404 or 503 in this state is not verified against a Microsoft source.)`,
      'On the server: Get-Service RemoteAccess (start it), check that SSTP ports exist (RRAS console > Ports), ' +
        `and that netsh http show urlacl lists ${SSTP_URL_RESERVATION}.`);
  }
  if (status === 502 || status === 504) {
    return down('http', `a proxy answers ${status}`,
      'A load balancer or reverse proxy answered for RRAS: it has no healthy server behind it or cannot reach one.',
      "Check the load balancer's pool and the RRAS servers behind it (probe each server directly).");
  }
  if (status === 400) {
    return down('http', 'HTTP.sys rejects the request (400)',
      'HTTP.sys answers 400 to requests it cannot route, typically an invalid Host header or a request sent ' +
        'in plain text to a TLS port through a proxy.',
      "Check the group's hostname (sent as Host) and the URL scheme.");
  }
  if (status >= 200 && status < 400) {
    return down('http', `something other than RRAS answers ${status}`,
      `RRAS answers this HEAD request with 401; ${status} comes from something else on this port: a web site ` +
        "(IIS sharing port 443), a load balancer's own page, or a redirect.",
      'Find what owns the port: netsh http show servicestate on the server, or the virtual service on the load balancer.');
  }
  return down('http', `unexpected HTTP ${status}`,
    `The SSTP health check expects 401 from RRAS; ${status} means the listener is not RRAS's SSTP endpoint or is failing.`,
    'Check the Remote Access service and the System and Application event logs on the server.');
}

function httpProtocol(message: string, where: Where): Diagnosis {
  const answeredTls = /TLS (alert|handshake) record/.test(message);
  const silent = /without any response/.test(message);
  if (where.offload && (answeredTls || silent)) {
    return down('http', 'this port expects TLS',
      `The probe spoke plain HTTP (offload) and the server ${answeredTls ? 'answered with TLS' : 'closed the connection without a word'}: ` +
        'this port most likely expects TLS, so TLS is not offloaded for this server.',
      'Probe it with an https:// URL (drop offload), or move SSTP to plain HTTP if the load balancer terminates TLS: Enable-SstpOffload from Richard Hicks\' AOVPNTools PowerShell module sets UseHttps = 0, isHashConfiguredByAdmin = 1 and SHA256CertificateHash under HKLM\\SYSTEM\\CurrentControlSet\\Services\\SstpSvc\\Parameters.');
  }
  if (silent) {
    return down('http', 'server closed without answering',
      'The connection was accepted and then closed without any HTTP response: HTTP.sys dropped the request, ' +
        'or the service on this port is not HTTP.sys.',
      'Check the Remote Access service and the HTTPERR log (%SystemRoot%\\System32\\LogFiles\\HTTPERR) on the server.');
  }
  if (/exceed/.test(message)) {
    return down('http', 'response headers too large',
      'The response head grew beyond 16 KiB: HTTP.sys never does that, so something else answers on this port.',
      'Find what owns the port on the server or on the load balancer.');
  }
  return down('http', 'not an HTTP response',
    `Something that does not speak HTTP answers on ${where.host}:${where.port}: another service, or a middlebox. ` +
      'RRAS answers the SSTP health check through HTTP.sys.',
    'Check what listens on this port (netstat -ano on the server) and where the load balancer forwards it.');
}

/** How far the probe got: the first phase without a time. */
function stuckPhase(result: ProbeResult, offload: boolean): 'dns' | 'connect' | 'tls' | 'http' {
  const phases = result.phasesMs;
  if (phases.dns === undefined) return 'dns';
  if (phases.connect === undefined) return 'connect';
  if (!offload && phases.tls === undefined) return 'tls';
  return 'http';
}

function timeout(result: ProbeResult, where: Where): Diagnosis {
  const phase = stuckPhase(result, where.offload);
  if (/aborted/.test(result.message)) {
    return down(phase, 'probe cancelled',
      `The probe was cancelled (${result.message}) before it could finish: no verdict on the server itself.`, null);
  }
  switch (phase) {
    case 'dns':
      return down('dns', `no DNS answer for ${where.host}`,
        `The DNS servers of this monitoring host did not answer for ${where.host} in time.`,
        'Check the DNS servers configured on the monitoring host and that they are reachable.');
    case 'connect':
      return down('connect', `no TCP connection to ${where.host}:${where.port}`,
        `The host is down or a firewall silently drops TCP ${where.port} (a rejecting firewall would refuse instead).`,
        `Check that the server is up, and that firewalls allow TCP ${where.port} from this monitoring host ` +
          `(Windows Firewall rule "Secure Socket Tunneling Protocol (SSTP-In)", network ACLs, security groups).`);
    case 'tls':
      return down('tls', 'TCP accepted, no TLS handshake',
        'The port accepts connections but nobody answers the TLS ClientHello: HTTP.sys or the server is hung, or ' +
          'a load balancer accepts for a pool without a healthy server.',
        'On the server check the Remote Access service and netsh http show sslcert; restart Remote Access if it hangs.');
    case 'http':
      if (/incomplete/.test(result.message)) {
        return down('http', 'response headers never end',
          'The server started an answer and kept trickling headers past the deadline: not HTTP.sys behavior.',
          'Find what owns the port on the server or on the load balancer.');
      }
      return down('http', `server hung: ${where.offload ? 'connected' : 'TLS done'}, no HTTP response`,
        'The server accepted the HEAD request but did not answer before the timeout: the Remote Access service ' +
          '(SstpSvc) or HTTP.sys is overloaded or hung.',
        'Check the Remote Access service and the System and Application event logs on the server; restart Remote Access if it does not recover.');
  }
}

function dns(message: string, where: Where): Diagnosis {
  if (/EAI_AGAIN|not answering/.test(message)) {
    return down('dns', `cannot resolve ${where.host} right now`,
      `Resolving ${where.host} failed temporarily: the DNS server is unreachable or failing.`,
      'Check the DNS servers configured on the monitoring host.');
  }
  return down('dns', `${where.host} does not resolve`,
    `The name ${where.host} has no address in DNS as this monitoring host sees it.`,
    `Check the DNS record for ${where.host} (the public VPN name, or the internal name of the RRAS server), or use the server's IP address in the URL.`);
}

function connectReset(result: ProbeResult, where: Where): Diagnosis {
  const phase = stuckPhase(result, where.offload);
  if (phase === 'connect') {
    return down('connect', `connection reset by ${where.host}`,
      'The TCP connection was reset while being set up: a firewall or IPS in the path resets it, or the host refuses it.',
      `Check firewalls between this monitoring host and ${where.host}:${where.port}.`);
  }
  if (where.offload) {
    return down('http', 'reset after the plain HTTP request',
      'The server reset the connection after the plain HTTP request: a TLS port resets plain text, so TLS is ' +
        'probably not offloaded for this server.',
      'Probe it with an https:// URL (drop offload), or check the offload settings on the load balancer and the server.');
  }
  return down('http', 'reset after the request',
    'TLS worked, then the server reset the connection instead of answering: HTTP.sys dropped the request or the service is failing.',
    'Check the HTTPERR log (%SystemRoot%\\System32\\LogFiles\\HTTPERR) and the Remote Access service on the server.');
}

function tlsHandshake(message: string, where: Where): Diagnosis {
  if (/wrong version number|http request/i.test(message)) {
    return down('tls', 'this port speaks plain HTTP, not TLS',
      'The server answered the TLS ClientHello in plain text (HTTP.sys answers 400): TLS is probably offloaded ' +
        'at the load balancer and this server runs SSTP over plain HTTP.',
      'If TLS is offloaded, configure this server with an http:// URL (offload); otherwise bind a certificate to SSTP on the server.');
  }
  if (/protocol version|unsupported protocol|no shared cipher|no cipher|handshake failure|no suitable|sigalg/i.test(message)) {
    return down('tls', 'no common TLS version or cipher',
      'The server and the probe share no TLS version or cipher suite (TLS 1.2 or later is required). SSTP clients ' +
        'on current Windows would fail the same way.',
      'Enable TLS 1.2/1.3 and modern cipher suites on the server (SCHANNEL registry or IISCrypto), then restart it.');
  }
  if (/during the TLS handshake/.test(message)) {
    return down('tls', 'TLS handshake cut off',
      `The server ${/closed/.test(message) ? 'closed' : 'reset'} the connection during the TLS handshake: HTTP.sys ` +
        'has no certificate binding for this address and port, or the bound certificate or its private key is gone.',
      `On the server: netsh http show sslcert (look for 0.0.0.0:${where.port} and [::]:${where.port}); select the ` +
        "SSTP certificate again in the RRAS console (Properties > Security) and restart Remote Access.");
  }
  return down('tls', 'TLS handshake failed',
    `The TLS handshake with ${where.host}:${where.port} failed (${message}). A wrong HTTP.sys certificate binding, ` +
      'or a protocol or cipher mismatch, looks like this.',
    `Check netsh http show sslcert on the server and the TLS protocols enabled in SCHANNEL.`);
}

function certUntrusted(message: string, where: Where): Diagnosis {
  if (/INVALID_PURPOSE|Server Authentication/.test(message)) {
    return down('certificate', 'certificate lacks the Server Authentication EKU',
      `SSTP clients require the Server Authentication EKU; this certificate does not have it (${message}).`,
      `Issue a certificate for ${where.hostname} with the Server Authentication EKU, then ${BIND_CERTIFICATE}.`);
  }
  if (/UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(message)) {
    return down('certificate', 'certificate chain incomplete or untrusted',
      `The server sends its certificate without the intermediate CA, and the issuer is not trusted here (${message}). ` +
        'Clients without that intermediate cached will refuse the connection.',
      "Install the intermediate CA certificates in the server's Intermediate Certification Authorities store so HTTP.sys " +
        'sends the full chain; if an enterprise CA issued it, give sstpwatch its root (tls.ca_file).');
  }
  if (/self-signed/.test(message)) {
    return down('certificate', 'self-signed certificate',
      `Clients refuse a self-signed certificate unless it is installed on every one of them (${message}).`,
      `Use a certificate for ${where.hostname} from a public CA (recommended: its CRLs are always reachable) or your enterprise CA, then ${BIND_CERTIFICATE}.`);
  }
  return down('certificate', 'certificate not trusted',
    `The certificate does not chain to a trusted root (${message}). Clients will refuse it unless they trust the issuer.`,
    'Install the full chain on the server and use a public CA; if an enterprise CA issued it, give sstpwatch its root (tls.ca_file).');
}

function offloadHashNote(where: Where): string {
  return where.offload
    ? ''
    : ' If a load balancer offloads TLS for this name, also update SHA256CertificateHash (SstpSvc\\Parameters, with isHashConfiguredByAdmin = 1 and UseHttps = 0) on every RRAS server behind it: Enable-SstpOffload from Richard Hicks\' AOVPNTools PowerShell module sets all three.';
}
