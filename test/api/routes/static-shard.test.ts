// The real service with `shard: "I/N"`: status, probe-now, metrics and scheduling cover only the targets of its
// shard, also after a reload adds targets; a reload that changes the shard keeps the running one.
import { afterEach, describe, expect, it } from 'vitest';
import { inShard } from '../../../src/config/sharding.js';
import { configYaml, startInProcess, TOKEN, type InProcess } from '../../fixtures/in-process.js';

const names = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `rras-${i}` }));
const shardOf = (count: number, index: number) => names(count).map((s) => s.name).filter((name) => inShard(name, { index, count: 2 }));

describe('an instance with shard: 2/2', () => {
  let run: InProcess | null = null;
  afterEach(async () => {
    await run?.close();
    run = null;
  });

  it('reports, probes and exports only its own targets, before and after a reload', async () => {
    run = await startInProcess(configYaml(names(12), 'shard: "2/2"'));
    const status = async () => (await run!.service.app.inject({ url: '/api/v1/status' })).json<{ targets: { name: string }[] }>();
    expect((await status()).targets.map((t) => t.name).sort()).toEqual(shardOf(12, 2).sort());
    const foreign = shardOf(12, 1)[0]!;
    const probe = (name: string) => run!.service.app.inject({ method: 'POST', url: `/api/v1/targets/${name}/probe`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await probe(foreign)).statusCode).toBe(404);
    expect((await probe(shardOf(12, 2)[0]!)).statusCode).toBe(200);
    expect(run.probed).toEqual([shardOf(12, 2)[0]]);
    const metrics = (await run.service.app.inject({ url: '/metrics' })).body;
    expect(metrics).not.toContain(`target="${foreign}"`);

    run.setYaml(configYaml(names(20), 'shard: "1/2"'));
    const report = (await run.service.app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: `Bearer ${TOKEN}` } })).json<{ restart_required: string[] }>();
    expect(report.restart_required).toEqual(['shard']);
    expect((await status()).targets.map((t) => t.name).sort()).toEqual(shardOf(20, 2).sort());
  });
});
