// The part of the config an instance probes when it owns only some targets: those targets, and each group cut
// down to its owned members (a group with none is left out). Pure.
import type { Config, GroupConfig, TargetConfig } from '../config/types.js';

export interface OwnedPart {
  targets: TargetConfig[];
  groups: GroupConfig[];
}

export function ownedPart(config: Pick<Config, 'targets' | 'groups'>, owns: (name: string) => boolean): OwnedPart {
  const targets = config.targets.filter((target) => owns(target.name));
  const names = new Set(targets.map((target) => target.name));
  const groups: GroupConfig[] = [];
  for (const group of config.groups) {
    const servers = group.servers.filter((name) => names.has(name));
    const vip = group.vip !== null && names.has(group.vip) ? group.vip : null;
    if (servers.length > 0 || vip !== null) groups.push({ ...group, servers, vip });
  }
  return { targets, groups };
}
