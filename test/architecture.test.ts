// The shape of src/ as the code reads it: the import graph (every import, export-from and import() between src
// files, type-only ones included) has no cycle and runs one way through the layers docs/development.md lists;
// the API reaches the store only through its interface; SQL stays in src/store/; main.ts alone listens; no file
// is over 450 lines.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
/** A file holds one responsibility and reads in one sitting. */
const MAX_LINES = 450;

/**
 * Each unit of src/ (a directory, or a file at the top) and its layer: a unit imports only units of lower layers.
 * health is the pure domain (states, views) that store and metrics both build on; store and metrics never import
 * each other. demo (simulated RRAS/SSTP servers) is used by main's demo mode and the tests; cli and service.ts are
 * the parts main.ts wires; main.ts is the top.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['config', 'version.ts', 'chunk-writer.ts', 'time-slice.ts', 'start-gate.ts'],
  ['probe', 'log.ts'],
  ['health', 'demo'],
  ['store', 'metrics'],
  ['scheduler'],
  ['api'],
  ['cli', 'service.ts'],
  ['main.ts'],
];

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The src files a file imports (NodeNext specifiers name the emitted `.js`; the source is the `.ts` beside it). */
function importsOf(file: string, text: string, known: ReadonlySet<string>): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
    .filter((target) => known.has(target))
    .map((target) => relative(ROOT, target));
}

function readGraph(): { graph: Graph; texts: Map<string, string> } {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const graph: Graph = new Map();
  const texts = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const name = relative(ROOT, file);
    texts.set(name, text);
    graph.set(name, [...new Set(importsOf(file, text, known))]);
  }
  return { graph, texts };
}

/** The first import cycle found, as the path `a -> b -> ... -> a`; null when the graph has none. */
function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** `src/store/sqlite.ts` -> `store`; `src/main.ts` -> `main.ts`. */
function unitOf(file: string): string {
  return file.split('/')[1]!;
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0) throw new Error(`src/${unit} has no layer: add it to LAYERS here and to docs/development.md`);
  return layer;
}

/** Every import that does not go to a lower layer, as `from -> to (unit layer -> unit layer)`. */
function layerViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const a = unitOf(from);
    for (const to of targets) {
      const b = unitOf(to);
      if (a !== b && layerOf(b) >= layerOf(a)) out.push(`${from} -> ${to} (${a} layer ${layerOf(a)} -> ${b} layer ${layerOf(b)})`);
    }
  }
  return out.sort();
}

const { graph, texts } = readGraph();

describe('the import graph of src/', () => {
  it('is read from the sources (the wiring in main.ts and service.ts shows up)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/main.ts')).toContain('src/service.ts');
    expect(graph.get('src/service.ts')).toContain('src/api/app.ts');
  });

  it('finds a cycle and reports its path, and accepts a graph without one', () => {
    const withCycle: Graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(findCycle(withCycle)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toBeNull();
  });

  it('has no import cycle', () => {
    const cycle = findCycle(graph);
    expect(cycle, `import cycle: ${cycle?.join(' -> ')}`).toBeNull();
  });

  it('runs one way: config <- probe <- health <- store, metrics <- scheduler <- api <- cli, service <- main', () => {
    expect(layerViolations(new Map([['src/config/load.ts', ['src/api/app.ts']]]))).toEqual([
      'src/config/load.ts -> src/api/app.ts (config layer 0 -> api layer 5)',
    ]);
    expect(layerViolations(graph)).toEqual([]);
  });

  it('lets the API reach the store only through its interface (src/store/store.ts), never an implementation or its SQL', () => {
    const reached = [...graph]
      .filter(([from]) => from.startsWith('src/api/'))
      .flatMap(([from, targets]) => targets.filter((to) => to.startsWith('src/store/') && to !== 'src/store/store.ts').map((to) => `${from} -> ${to}`));
    expect(reached).toEqual([]);
  });
});

describe('src/', () => {
  it('keeps SQL in src/store/', () => {
    const sql = /\b(SELECT\s[\s\S]{0,200}?\bFROM|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|INDEX))\b|\.prepare\(/;
    const outside = [...texts].filter(([file, text]) => !file.startsWith('src/store/') && sql.test(text)).map(([file]) => file);
    expect(outside).toEqual([]);
  });

  it('listens only in main.ts (the API) and in the simulated servers of src/demo/', () => {
    const listening = [...texts].filter(([file, text]) => /\.listen\(/.test(text) && file !== 'src/main.ts' && !file.startsWith('src/demo/')).map(([file]) => file);
    expect(listening).toEqual([]);
    expect(texts.get('src/main.ts')).toMatch(/\.listen\(/);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = [...texts].filter(([, text]) => lineCount(text) > MAX_LINES).map(([file, text]) => `${file}: ${lineCount(text)} lines`);
    expect(long).toEqual([]);
  });
});
