// Pure: a deep SSTP check's result -> what it means and what an admin can do. Used by diagnose.ts for the
// sstp_* error kinds and for an ok deep check; `sstpwatch check --sstp` prints it with the stage lines below.
import { describeHashBitmask, describeStatus } from './sstp-frames.js';
import type { ProbeResult, SstpDetails } from './types.js';

export interface SstpDiagnosis {
  verdict: 'up' | 'down';
  headline: string;
  explanation: string;
  fix: string | null;
}

const SERVICE_CHECK =
  'On the server: Get-Service RemoteAccess, the SSTP ports in the RRAS console (Ports: how many, how many in use), ' +
  'and the System log (RemoteAccess and RasSstp events) around the time of the check';

/** The diagnosis of a deep check that reached the SSTP part, or null when the failure was before it (HTTP, TLS...). */
export function diagnoseSstp(result: ProbeResult): SstpDiagnosis | null {
  const sstp = result.sstp;
  switch (result.errorKind) {
    case 'ok':
      if (sstp?.warning) {
        return {
          verdict: 'up',
          headline: 'SSTP call accepted, but the crypto binding offered is SHA-1 only',
          explanation:
            'The server accepted the call (Call Connect Ack), so clients connect; its Crypto Binding Request offers only SHA-1 ' +
            '(hash bitmask 0x01). The crypto binding is what ties the tunnel to the server certificate the client saw, against a ' +
            'man in the middle relaying the call; with SHA-1 it rests on a hash with practical collision attacks. Windows RRAS, ' +
            'accel-ppp and SoftEther offer SHA-256; a SHA-1-only offer points to an old or misconfigured server (or something ' +
            'in between speaking SSTP). Clients that insist on SHA-256 may refuse such a server (not verified against a Microsoft source).',
          fix: 'Update the SSTP server and enable SHA-256 for the crypto binding (on RRAS with TLS offload: SHA256CertificateHash under SstpSvc\\Parameters).',
        };
      }
      return {
        verdict: 'up',
        headline: 'SSTP call accepted (Call Connect Ack), then disconnected cleanly',
        explanation:
          'The server answered SSTP_DUPLEX_POST with 200 and accepted a Call Connect Request with a Call Connect Ack ' +
          `offering ${describeHashBitmask(sstp?.hashBitmask ?? 0)} crypto binding: the SSTP service takes calls. The ` +
          'check did not authenticate; PPP, the user and the address pool were not exercised.' +
          (sstp && !sstp.disconnectAcked ? ' The server did not acknowledge the Call Disconnect in time (the connection was closed anyway).' : ''),
        fix: null,
      };
    case 'sstp_http_status':
      if (result.statusCode === 200) {
        return down('SSTP_DUPLEX_POST answered 200, but not as an SSTP server',
          `The answer was 200 with a Content-Length other than 18446744073709551615, which every SSTP server sends: a web page, ` +
            'a proxy or a load balancer answered instead of RRAS (sstp-client refuses such an answer too).',
          'Check what answers on the port and that the load balancer passes SSTP_DUPLEX_POST through to RRAS unchanged.');
      }
      return httpStatus(result.statusCode ?? 0);
    case 'sstp_no_response':
      if (sstp && sstp.stageReached === 'transport') {
        return down('no answer to SSTP_DUPLEX_POST',
          `HTTP.sys took the request but the SSTP service (SstpSvc) did not answer it: the service ` +
            'is hung or overloaded, or a proxy in between waits for a request body that never ends.',
          `${SERVICE_CHECK}. A load balancer in front must pass SSTP_DUPLEX_POST through as a long-lived connection.`);
      }
      return down('no answer to Call Connect Request',
        `The server accepted the SSTP connection (200) but did not answer the call request: the ` +
          'SSTP service is hung, or it cannot hand the call to RRAS.',
        `${SERVICE_CHECK}; restart Remote Access if it does not recover.`);
    case 'sstp_nak':
      return down(`call refused (Call Connect Nak${sstp?.status ? `: ${describeStatus(toInfo(sstp.status))}` : ''})`,
        'The server refused the call request itself, before any authentication: it does not accept the call as asked ' +
          '(the status names the attribute and why). Which conditions make RRAS answer with a Nak rather than an HTTP ' +
          'error is not verified against a Microsoft source.',
        `${SERVICE_CHECK}.`);
    case 'sstp_abort':
      if (/right after/.test(result.message)) {
        return down('call dropped right after the Call Connect Ack',
          'The SSTP layer accepted the call request and the server dropped the call at once, before any authentication. ' +
            'Why is not verified against a Microsoft source. It is not the address pool: RRAS assigns the client address in ' +
            "PPP's IPCP, after authentication, which this check never reaches. Something between accepting the request and " +
            'handing the call to PPP failed (unverified: the RemoteAccess service or its PPP engine failing, a policy ending the call).',
          `${SERVICE_CHECK}; the RemoteAccess and RasSstp events at the time of the check name the cause.`);
      }
      return down('call aborted by the server',
        `The server ended the call instead of accepting it.`,
        `${SERVICE_CHECK}.`);
    case 'sstp_bad_frame':
      return down('not SSTP: malformed packet',
        `What answered after the 200 does not speak MS-SSTP correctly: another service behind ` +
          'the SSTP URL, or a proxy or load balancer altering the stream.',
        'Find what owns the port (netsh http show servicestate on the server) and make sure the load balancer ' +
          'passes the connection through untouched.');
    case 'sstp_no_sha256':
      return down('server offers no usable crypto binding',
        'The Call Connect Ack offers neither SHA-256 nor SHA-1 for the crypto binding, so no client can complete the call ' +
          '(sstp-client gives up there). (A SHA-1-only offer is accepted with a warning; results recorded before that ' +
          'change carry this kind for it.)',
        'Update the server and check the SstpSvc parameters (certificate hash settings) on it.');
    default:
      return null;
  }
}

/** One line per stage for `sstpwatch check --sstp`: what was sent, what came back, how long it took. */
export function describeSstpStages(result: ProbeResult, target: { plainHttp: boolean }): string[] {
  const sstp: SstpDetails | undefined = result.sstp;
  if (!sstp) return [];
  const ms = (v: number | undefined) => (v === undefined ? '' : ` (${v.toFixed(1)} ms)`);
  const reached = ['transport', 'http', 'call_reply', 'disconnect_ack'].indexOf(sstp.stageReached);
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  // What was asked for, not what was reached: an https target whose TLS failed is not "plain HTTP".
  const transport = target.plainHttp ? 'TCP (plain HTTP, TLS offloaded)' : `TCP + ${result.tlsVersion ?? 'TLS (no handshake)'}`;
  lines.push(`  1 ${reached >= 0 ? 'ok  ' : 'FAIL'} transport: ${transport}`);
  if (reached < 0) return lines;
  const http = reached >= 1;
  lines.push(
    `  2 ${mark(http)} SSTP_DUPLEX_POST -> ${result.statusCode === null ? 'no response' : `HTTP/${result.httpVersion ?? '?'} ${result.statusCode}`}${ms(sstp.stagesMs.http)}`,
  );
  if (!http) return lines;
  const replyText = (() => {
    switch (sstp.reply) {
      case 'ack':
        return `Call Connect Ack, crypto binding ${describeHashBitmask(sstp.hashBitmask ?? 0)} (bitmask 0x${(sstp.hashBitmask ?? 0).toString(16).padStart(2, '0')})`;
      case 'nak':
        return `Call Connect Nak${sstp.status ? `, ${describeStatus(toInfo(sstp.status))}` : ''}`;
      case 'abort':
        return `Call Abort${sstp.status ? `, ${describeStatus(toInfo(sstp.status))}` : ''}`;
      case 'disconnect':
        return `Call Disconnect${sstp.status ? `, ${describeStatus(toInfo(sstp.status))}` : ''}`;
      default:
        return result.errorKind === 'sstp_bad_frame' ? 'malformed packet' : 'no answer';
    }
  })();
  lines.push(`  3 ${mark(result.ok || result.errorKind === 'sstp_no_sha256' ? sstp.reply === 'ack' : false)} Call Connect Request -> ${replyText}${ms(sstp.stagesMs.call)}`);
  if (sstp.abortSent) {
    lines.push(`  4 ok   Call Abort sent (${sstp.reply === 'abort' ? "answering the server's" : 'an invalid message from the server'}); no reply is awaited`);
  } else {
    const end = sstp.disconnectAcked
      ? `call closed cleanly${ms(sstp.stagesMs.disconnect)}`
      : sstp.disconnectSent
        ? 'no Call Disconnect Ack (connection closed)'
        : result.errorKind === 'sstp_bad_frame'
          ? 'not sent: a framing error drops the connection without a word ([MS-SSTP] 3.1.5.1)'
          : 'not sent: the connection was already gone';
    lines.push(`  4 ${sstp.disconnectAcked ? 'ok  ' : 'warn'} Call Disconnect -> ${end}`);
  }
  if (sstp.warning) lines.push(`    warning: ${sstp.warning}`);
  lines.push(`    correlation id {${sstp.correlationId}} (SSTPCORRELATIONID: find this check in the server's logs)`);
  return lines;
}

function httpStatus(status: number): SstpDiagnosis {
  if (status === 503) {
    return down('SSTP_DUPLEX_POST answered 503',
      'The server refused the SSTP connection with an HTTP error. [MS-SSTP] 4.1: the server checks for a free SSTP port when ' +
        'it answers SSTP_DUPLEX_POST and answers an HTTP error when there is none, which clients report as 0x800704C9 ' +
        '(KB 947031: no free ports). Out of SSTP ports is therefore a verified cause of an HTTP error here; that the status is ' +
        '503 is not verified. A registered but stopped SSTP listener is the other usual cause.',
      `${SERVICE_CHECK}. If all ports are in use, raise the number of SSTP ports (RRAS console > Ports > WAN Miniport (SSTP) > Configure).`);
  }
  if (status === 404) {
    return down('SSTP_DUPLEX_POST answered 404: SSTP listener not bound',
      'The SSTP URL is not reserved on this port: the Remote Access service is stopped or SSTP is disabled.',
      `${SERVICE_CHECK}.`);
  }
  return down(`SSTP_DUPLEX_POST answered ${status}`,
    `RRAS answers SSTP_DUPLEX_POST with 200; ${status} comes from something else on the port, or a proxy that does ` +
      'not pass SSTP_DUPLEX_POST (a load balancer must forward this method).',
    'Check what answers on the port and that the load balancer forwards SSTP_DUPLEX_POST unchanged.');
}

function toInfo(status: { code: number; attributeId: number }) {
  return { status: status.code, attributeId: status.attributeId };
}

function down(headline: string, explanation: string, fix: string | null): SstpDiagnosis {
  return { verdict: 'down', headline, explanation, fix };
}
