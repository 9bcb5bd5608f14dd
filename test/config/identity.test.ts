import { describe, expect, it } from 'vitest';
import { sameTargetIdentity, targetChanged } from '../../src/config/identity.js';
import { probeSettings, targetConfig } from '../fixtures/domain.js';

const before = targetConfig('vpn1');

describe('a target in a reloaded config', () => {
  it.each([
    { case: 'nothing changed', after: targetConfig('vpn1'), same: true, changed: false },
    { case: 'its interval changed', after: targetConfig('vpn1', probeSettings({ intervalMs: 10_000 })), same: true, changed: true },
    { case: 'its URL changed', after: targetConfig('vpn1', probeSettings(), { url: 'https://10.0.0.9' }), same: false, changed: true },
    { case: 'its hostname changed', after: targetConfig('vpn1', probeSettings(), { hostname: 'vpn2.example.test' }), same: false, changed: true },
    { case: 'it moved to another group', after: targetConfig('vpn1', probeSettings(), { group: 'vpn-us' }), same: false, changed: true },
    { case: 'it became the VIP', after: targetConfig('vpn1', probeSettings(), { role: 'vip' }), same: false, changed: true },
  ])('when $case: keeps its state = $same, is reported changed = $changed', ({ after, same, changed }) => {
    expect(sameTargetIdentity(before, after)).toBe(same);
    expect(targetChanged(before, after)).toBe(changed);
  });
});
