import { describe, expect, it } from 'vitest';
import { AllowList, parseAllowEntry } from '../../src/config/allow-list.js';

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
