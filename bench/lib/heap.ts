// Heap snapshots of a running sstpwatch (started with --heapsnapshot-signal=SIGUSR2) and what they say: the
// dominator tree (Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm", as Chrome DevTools computes it),
// retained sizes, and a summary by constructor and by the largest retainers.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './proc.js';

export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSummary {
  nodes: number;
  totalBytes: number;
  byConstructor: { name: string; count: number; self: number; retained: number }[];
  /**
   * Self sizes summed by owner: the nearest dominator that is an instance of a named class (not Object, Array, Map,
   * a closure or V8's internals), i.e. which part of the program holds the memory; with its largest kinds.
   */
  byOwner: { owner: string; self: number; count: number; kinds: string }[];
  largest: { retained: number; path: string }[];
}

/**
 * Signals the process to write a heap snapshot into `dir` (its working directory) and waits until the file is
 * complete (its size stops changing and it ends with the closing bracket). Resolves with its path.
 */
export async function takeHeapSnapshot(pid: number, dir: string, timeoutMs = 300_000): Promise<string> {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(1000);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const path = join(dir, file);
    const size = existsSync(path) ? statSync(path).size : 0;
    if (size > 0 && size === lastSize) return path;
    lastSize = size;
  }
  throw new Error(`no heap snapshot from ${pid} in ${dir} within ${timeoutMs / 1000} s`);
}

export function summarizeHeap(snapshot: HeapSnapshotJson, top = 30): HeapSummary {
  const meta = snapshot.snapshot.meta;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const typeOffset = meta.node_fields.indexOf('type');
  const nameOffset = meta.node_fields.indexOf('name');
  const selfOffset = meta.node_fields.indexOf('self_size');
  const edgeCountOffset = meta.node_fields.indexOf('edge_count');
  const edgeTypeOffset = meta.edge_fields.indexOf('type');
  const edgeNameOffset = meta.edge_fields.indexOf('name_or_index');
  const toOffset = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const weak = edgeTypes.indexOf('weak');
  const elementType = edgeTypes.indexOf('element');
  const hiddenType = edgeTypes.indexOf('hidden');
  const { nodes, edges, strings } = snapshot;
  const n = nodes.length / nodeFields;

  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = firstEdge[i]! + nodes[i * nodeFields + edgeCountOffset]! * edgeFields;
  const targetOf = (e: number): number => edges[e + toOffset]! / nodeFields;

  // Post-order from the root (node 0) over strong edges.
  const postOrder = new Uint32Array(n);
  const orderOf = new Int32Array(n).fill(-1);
  const visited = new Uint8Array(n);
  const stack = new Uint32Array(n);
  const cursor = new Uint32Array(n);
  let order = 0;
  let top1 = 0;
  stack[0] = 0;
  visited[0] = 1;
  cursor[0] = firstEdge[0]!;
  while (top1 >= 0) {
    const v = stack[top1]!;
    let pushed = false;
    while (cursor[v]! < firstEdge[v + 1]!) {
      const e = cursor[v]!;
      cursor[v] = e + edgeFields;
      if (edges[e + edgeTypeOffset] === weak) continue;
      const w = targetOf(e);
      if (visited[w]) continue;
      visited[w] = 1;
      cursor[w] = firstEdge[w]!;
      stack[++top1] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      orderOf[v] = order;
      postOrder[order++] = v;
      top1--;
    }
  }
  const reachable = order;

  // Predecessors (strong edges between reachable nodes), by post-order number.
  const predCount = new Uint32Array(reachable + 1);
  for (let v = 0; v < n; v++) {
    if (orderOf[v]! < 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += edgeFields) {
      if (edges[e + edgeTypeOffset] === weak) continue;
      const w = orderOf[targetOf(e)]!;
      if (w >= 0) predCount[w + 1]!++;
    }
  }
  for (let i = 0; i < reachable; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Uint32Array(predCount[reachable]!);
  const fill = predCount.slice(0, reachable);
  for (let v = 0; v < n; v++) {
    const pv = orderOf[v]!;
    if (pv < 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += edgeFields) {
      if (edges[e + edgeTypeOffset] === weak) continue;
      const w = orderOf[targetOf(e)]!;
      if (w >= 0) preds[fill[w]!++] = pv;
    }
  }

  // Immediate dominators by post-order number; the root is the highest.
  const rootOrder = reachable - 1;
  const idom = new Int32Array(reachable).fill(-1);
  idom[rootOrder] = rootOrder;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = idom[a]!;
      while (b < a) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let v = rootOrder - 1; v >= 0; v--) {
      let dom = -1;
      for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
        const u = preds[p]!;
        if (idom[u] === -1) continue;
        dom = dom === -1 ? u : intersect(u, dom);
      }
      if (dom !== -1 && idom[v] !== dom) {
        idom[v] = dom;
        changed = true;
      }
    }
  }

  const selfOf = (v: number): number => nodes[v * nodeFields + selfOffset]!;
  const retained = new Float64Array(reachable);
  let totalBytes = 0;
  for (let o = 0; o < reachable; o++) {
    const self = selfOf(postOrder[o]!);
    retained[o]! += self;
    totalBytes += self;
    if (o !== rootOrder) retained[idom[o]!]! += retained[o]!;
  }

  const classOf = (v: number): string => {
    const type = nodeTypes[nodes[v * nodeFields + typeOffset]!]!;
    const name = strings[nodes[v * nodeFields + nameOffset]!]!;
    if (type === 'object' || type === 'native') return name.split(' ')[0] || `(${type})`;
    if (type === 'closure') return `closure ${name || '(anonymous)'}`;
    if (type.includes('string')) return '(string)';
    if (type === 'array' || type === 'hidden') return name.startsWith('(') ? name : `(${type})`;
    return `(${type})`;
  };
  const byClass = new Map<string, { name: string; count: number; self: number; retained: number }>();
  for (let o = 0; o < reachable; o++) {
    const v = postOrder[o]!;
    const name = classOf(v);
    let entry = byClass.get(name);
    if (!entry) byClass.set(name, (entry = { name, count: 0, self: 0, retained: 0 }));
    entry.count++;
    entry.self += selfOf(v);
    if (o === rootOrder || classOf(postOrder[idom[o]!]!) !== name) entry.retained += retained[o]!;
  }

  const GENERIC = /^(?:Object|Array|Map|Set|WeakMap|system|closure |\(|Promise|Function|Uint8Array|Buffer|ArrayBuffer)/;
  const isOwner = (v: number): boolean => {
    const type = nodeTypes[nodes[v * nodeFields + typeOffset]!];
    return type === 'object' && !GENERIC.test(classOf(v));
  };
  const ownerOf = new Int32Array(reachable).fill(-1);
  const owners = new Map<string, { owner: string; self: number; count: number; kinds: Map<string, number> }>();
  for (let o = rootOrder - 1; o >= 0; o--) {
    const d = idom[o]!;
    ownerOf[o] = d !== rootOrder && isOwner(postOrder[d]!) ? d : ownerOf[d]!;
    const ownerName = ownerOf[o]! < 0 ? '(no owner: held by a GC root directly)' : classOf(postOrder[ownerOf[o]!]!);
    let entry = owners.get(ownerName);
    if (!entry) owners.set(ownerName, (entry = { owner: ownerName, self: 0, count: 0, kinds: new Map() }));
    const v = postOrder[o]!;
    entry.self += selfOf(v);
    entry.count++;
    const kind = classOf(v);
    entry.kinds.set(kind, (entry.kinds.get(kind) ?? 0) + selfOf(v));
  }

  const edgeName = (from: number, to: number): string => {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += edgeFields) {
      if (targetOf(e) !== to) continue;
      const type = edges[e + edgeTypeOffset];
      const raw = edges[e + edgeNameOffset]!;
      return type === elementType || type === hiddenType ? `[${raw}]` : `.${strings[raw]}`;
    }
    return '';
  };
  const pathOf = (o: number): string => {
    const chain: string[] = [];
    for (let x = o; x !== rootOrder && chain.length < 12; x = idom[x]!) {
      const v = postOrder[x]!;
      chain.unshift(`${edgeName(postOrder[idom[x]!]!, v)} ${classOf(v)}`.trim());
    }
    return chain.join(' > ');
  };
  const candidates: number[] = [];
  for (let o = 0; o < rootOrder; o++) {
    const type = nodeTypes[nodes[postOrder[o]! * nodeFields + typeOffset]!];
    if (type !== 'synthetic' && retained[o]! > totalBytes / 200) candidates.push(o);
  }
  candidates.sort((a, b) => retained[b]! - retained[a]!);
  return {
    nodes: reachable,
    totalBytes,
    byConstructor: [...byClass.values()].sort((a, b) => b.retained - a.retained).slice(0, top),
    largest: candidates.slice(0, top).map((o) => ({ retained: retained[o]!, path: pathOf(o) })),
    byOwner: [...owners.values()]
      .sort((a, b) => b.self - a.self)
      .slice(0, top)
      .map(({ owner, self, count, kinds }) => ({
        owner,
        self,
        count,
        kinds: [...kinds]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([k, bytes]) => `${k} ${(bytes / 1048576).toFixed(1)} MiB`)
          .join(', '),
      })),
  };
}
