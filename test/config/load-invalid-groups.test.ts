// Invalid groups and targets (names, URLs, offload, vip, duplicates, offload_cert_sha256), each case paired
// with the exact lines `config check` prints, and how several problems are reported at once. One topic per
// file keeps these tables short enough to scan for a missing case.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { errorsOf, MINIMAL, parse, withGroupKeys, withServer } from './load-helpers.js';

describe('an invalid config', () => {
  const rows: { case: string; yaml: string; errors: string[] }[] = [
    {
      case: 'unknown key in a server',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", adress: "10.0.0.11" }'),
      errors: ['groups[0].servers[0].adress: unknown key'],
    },
    {
      case: 'url that is not a URL',
      yaml: withServer('{ name: rras-eu-1, url: vpn3 }'),
      errors: ['groups[0].servers[0].url: must be an http(s) URL (got "vpn3")'],
    },
    {
      case: 'url with another scheme',
      yaml: withServer('{ name: rras-eu-1, url: "ftp://10.0.0.11" }'),
      errors: ['groups[0].servers[0].url: must be an http(s) URL (got "ftp://10.0.0.11")'],
    },
    {
      case: 'url with a path',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11/sra_x/" }'),
      errors: [
        'groups[0].servers[0].url: must be scheme, host and port only; the probe\'s path comes from "path" (got "https://10.0.0.11/sra_x/")',
      ],
    },
    {
      case: 'url with a query',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11/?a=1" }'),
      errors: [
        'groups[0].servers[0].url: must be scheme, host and port only; the probe\'s path comes from "path" (got "https://10.0.0.11/?a=1")',
      ],
    },
    {
      case: 'url with credentials',
      yaml: withServer('{ name: rras-eu-1, url: "https://admin:secret@10.0.0.11" }'),
      errors: ['groups[0].servers[0].url: must not contain a user name or password'],
    },
    {
      case: 'missing url and name',
      yaml: withServer('{ offload: false }'),
      errors: ['groups[0].servers[0].name: required key is missing', 'groups[0].servers[0].url: required key is missing'],
    },
    {
      case: 'http:// without offload: true',
      yaml: withServer('{ name: rras-eu-1, url: "http://10.0.0.11" }'),
      errors: [
        'groups[0].servers[0].url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://10.0.0.11")',
      ],
    },
    {
      case: 'offload: true with https://',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", offload: true }'),
      errors: [
        'groups[0].servers[0].offload: true needs an http:// url: with offload the load balancer ends TLS and forwards plain HTTP (url is "https://10.0.0.11")',
      ],
    },
    {
      case: 'offload that is not a boolean',
      yaml: withServer('{ name: rras-eu-1, url: "http://10.0.0.11", offload: yes }'),
      errors: [
        'groups[0].servers[0].offload: must be true or false (got "yes")',
        'groups[0].servers[0].url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://10.0.0.11")',
      ],
    },
    {
      case: 'vip given as a bad URL string',
      yaml: withGroupKeys('    vip: vpn.example.com'),
      errors: ['groups[0].vip: must be an http(s) URL (got "vpn.example.com")'],
    },
    {
      case: 'vip given as a plain http:// URL string',
      yaml: withGroupKeys('    vip: http://vpn.example.com'),
      errors: [
        'groups[0].vip: plain http:// means TLS is offloaded at the load balancer: write { url: "http://vpn.example.com", offload: true } to confirm, or use https:// (got "http://vpn.example.com")',
      ],
    },
    {
      case: 'name with capitals',
      yaml: withServer('{ name: RRAS-EU-1, url: "https://10.0.0.11" }'),
      errors: [
        'groups[0].servers[0].name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "RRAS-EU-1")',
      ],
    },
    {
      case: 'duplicate target names, including a derived vip name',
      yaml: `${MINIMAL}      - { name: rras-eu-1, url: "https://10.0.0.12" }
      - { name: vpn-eu-vip, url: "https://10.0.0.13" }
  - name: vpn-us
    hostname: vpn-us.example.com
    servers:
      - { name: rras-eu-1, url: "https://10.1.0.11" }
`.replace('    servers:', '    vip: https://vpn.example.com\n    servers:'),
      errors: [
        'groups[0].servers[1].name: duplicate target name "rras-eu-1" (also groups[0].servers[0].name)',
        'groups[0].vip: duplicate target name "vpn-eu-vip" (also groups[0].servers[2].name)',
        'groups[1].servers[0].name: duplicate target name "rras-eu-1" (also groups[0].servers[0].name)',
      ],
    },
    {
      case: 'duplicate group names',
      yaml: `${MINIMAL}  - name: vpn-eu
    hostname: vpn.example.com
    servers:
      - { name: rras-eu-2, url: "https://10.0.0.12" }
`,
      errors: ['groups[1].name: duplicate group name "vpn-eu" (also groups[0].name)'],
    },
    {
      case: 'no groups outside demo mode',
      yaml: 'groups: []\n',
      errors: ['groups: no groups configured; add a group, or set "demo: true" to probe built-in simulated servers'],
    },
    {
      case: 'a group without servers',
      yaml: withServer('').replace(/servers:\n\s+- \n/, 'servers: []\n'),
      errors: ['groups[0].servers: must list at least one RRAS server (got [])'],
    },
    {
      case: 'a group without hostname and servers',
      yaml: 'groups:\n  - name: vpn-eu\n',
      errors: ['groups[0].hostname: required key is missing', 'groups[0].servers: required key is missing'],
    },
    {
      case: 'groups as a mapping',
      yaml: 'groups:\n  vpn-eu: { hostname: vpn.example.com }\n',
      errors: ['groups: must be a list of groups (got a mapping)'],
    },
    {
      case: 'hostname that is not a DNS name',
      yaml: MINIMAL.replace('vpn.example.com', 'vpn_eu example'),
      errors: ['groups[0].hostname: must be a DNS name or an IP address (got "vpn_eu example")'],
    },
    {
      case: 'offload_cert_sha256 of the wrong length',
      yaml: withGroupKeys('    offload_cert_sha256: "3A7BD3E2"'),
      errors: [
        'groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got "3A7BD3E2")',
      ],
    },
    {
      case: 'offload_cert_sha256 that is not hex',
      yaml: withGroupKeys(`    offload_cert_sha256: "${'Z'.repeat(64)}"`),
      errors: [
        `groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got "${'Z'.repeat(64)}")`,
      ],
    },
    {
      case: 'offload_cert_sha256 that YAML read as a number',
      yaml: withGroupKeys('    offload_cert_sha256: 1234'),
      errors: ['groups[0].offload_cert_sha256: must be quoted: YAML read these digits as a number (got "1234")'],
    },
    {
      case: 'offload_cert_sha256 as a list',
      yaml: withGroupKeys('    offload_cert_sha256: [ab, cd]'),
      errors: [
        'groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got a list)',
      ],
    },
    {
      case: 'offload_cert_sha256 misspelled',
      yaml: withGroupKeys('    offload_cert_sha265: "ab"'),
      errors: ['groups[0].offload_cert_sha265: unknown key (did you mean "offload_cert_sha256"?)'],
    },
    {
      case: 'a server that is a bare URL',
      yaml: withServer('"https://10.0.0.11"'),
      errors: ['groups[0].servers[0]: must be a mapping of keys (got "https://10.0.0.11")'],
    },
  ];

  it.each(rows)('reports $case', ({ yaml, errors }) => {
    expect(errorsOf(yaml)).toEqual(errors);
  });

  it('reports every problem at once, each with its path', () => {
    const errors = errorsOf(`
listen: "localhost:0"
defaults:
  timeout: 40s
groups:
  - name: VPN
    hostname: vpn.example.com
    vip: { url: "http://vpn.example.com", adress: x }
    servers:
      - { name: rras-1, url: vpn3 }
      - { name: rras-1, url: "https://10.0.0.12", rise: -1 }
`);
    expect(errors).toEqual([
      'listen: the port must be from 1 to 65535 (got "localhost:0")',
      'groups[0].name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "VPN")',
      'groups[0].vip.adress: unknown key',
      'groups[0].vip.url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://vpn.example.com")',
      'groups[0].servers[0].url: must be an http(s) URL (got "vpn3")',
      'groups[0].servers[1].rise: must be a whole number from 1 to 100 (got -1)',
      'defaults: timeout 40s must be shorter than interval 30s',
      'groups[0].servers[1].name: duplicate target name "rras-1" (also groups[0].servers[0].name)',
    ]);
  });

  it('exposes the issues as values for `config check`', () => {
    try {
      parse(withServer('{ name: rras-eu-1, url: vpn3 }'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        { path: 'groups[0].servers[0].url', message: 'must be an http(s) URL (got "vpn3")' },
      ]);
    }
  });
});
