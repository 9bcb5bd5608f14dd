import { describe, expect, it } from 'vitest';
import { AllowList, allowListWarnings, parseAllowEntry } from '../../src/config/allow-list.js';

describe('probe endpoint allow list', () => {
  it.each([
    ['10.0.0.0/24', { kind: 'subnet', address: '10.0.0.0', prefix: 24, family: 'ipv4' }],
    ['10.0.0.11', { kind: 'subnet', address: '10.0.0.11', prefix: 32, family: 'ipv4' }],
    ['[::1]', { kind: 'subnet', address: '::1', prefix: 128, family: 'ipv6' }],
    ['fd00::/8', { kind: 'subnet', address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['VPN.Example.com', { kind: 'host', name: 'vpn.example.com' }],
    ['*.example.com', { kind: 'wildcard', suffix: 'example.com' }],
    ['10.0.0.0/33', 'the prefix length must be 0 to 32'],
    ['example.com/24', 'a CIDR needs an IP address before the "/"'],
    ['*.*.example.com', 'a wildcard must look like *.example.com'],
    ['-bad.example.com', 'must be a CIDR, an address or a host name'],
  ])('parses %j', (text, expected) => {
    expect(parseAllowEntry(text)).toEqual(expected);
  });

  const list = new AllowList(['10.0.0.0/24', '192.0.2.7', '::1', 'vpn.example.com', '*.rras.example.net']);

  it.each([
    ['10.0.0.11', true],
    ['10.0.1.11', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['::1', true],
    ['::2', false],
    ['not-an-ip', false],
  ])('address %s allowed: %s', (address, allowed) => {
    expect(list.allowsAddress(address)).toBe(allowed);
  });

  it.each([
    ['vpn.example.com', true],
    ['VPN.example.com.', true],
    ['www.example.com', false],
    ['rras-1.rras.example.net', true],
    ['a.b.rras.example.net', true],
    ['rras.example.net', false],
    ['evilrras.example.net', false],
  ])('name %s allowed: %s', (name, allowed) => {
    expect(list.allowsName(name)).toBe(allowed);
  });
});

describe('allowListWarnings', () => {
  it.each([
    { entries: ['10.0.0.0/24', 'rras1.example.com', '*.vpn.example.com', '2001:db8::/32'], warnings: [] },
    { entries: ['0.0.0.0/0'], warnings: ['probe_endpoint.allow: "0.0.0.0/0" allows every IPv4 address: /probe can reach anything sstpwatch can'] },
    { entries: ['::/0'], warnings: ['probe_endpoint.allow: "::/0" allows every IPv6 address: /probe can reach anything sstpwatch can'] },
    { entries: ['localhost'], warnings: ['probe_endpoint.allow: "localhost" allows loopback (services on the sstpwatch host itself)'] },
    { entries: ['127.0.0.0/8'], warnings: ['probe_endpoint.allow: "127.0.0.0/8" allows loopback (services on the sstpwatch host itself)'] },
    { entries: ['127.0.0.1'], warnings: ['probe_endpoint.allow: "127.0.0.1" allows loopback (services on the sstpwatch host itself)'] },
    { entries: ['::1'], warnings: ['probe_endpoint.allow: "::1" allows loopback (services on the sstpwatch host itself)'] },
    { entries: ['64.0.0.0/2'], warnings: ['probe_endpoint.allow: "64.0.0.0/2" allows loopback (services on the sstpwatch host itself)'] },
    { entries: ['169.254.0.0/16'], warnings: ['probe_endpoint.allow: "169.254.0.0/16" allows link-local addresses (169.254.169.254 is the cloud metadata service)'] },
    { entries: ['fe80::/10'], warnings: ['probe_endpoint.allow: "fe80::/10" allows link-local addresses (169.254.169.254 is the cloud metadata service)'] },
    { entries: ['10.0.0.0/8', '0.0.0.0/0', 'localhost'], warnings: [expect.stringContaining('"0.0.0.0/0"'), expect.stringContaining('"localhost"')] },
  ])('$entries: $warnings.length warning(s)', ({ entries, warnings }) => {
    expect(allowListWarnings(entries)).toEqual(warnings);
  });
});
