// Every example pipeline runs through the CLI, as a user would run it, and its checks hold.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ctxlab } from './cli/testing.js';

const files = readdirSync('pipelines').filter((f) => f.endsWith('.json')).sort();

describe('pipelines/ through `ctxlab run`', () => {
  it('has example pipelines', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(`${file} runs, and its checks hold`, async () => {
      const doc = JSON.parse(readFileSync(`pipelines/${file}`, 'utf8'));
      const r = await ctxlab(['run', `pipelines/${file}`, '--backend', 'wasm', '--json']);
      expect(r.stderr, r.stderr).toBe('');
      const report = JSON.parse(r.stdout);
      const failed = report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { text: string }) => c.text);
      expect(failed, `failed checks of ${file}`).toEqual([]);
      expect(report.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(report.checks.length, `${file} states its claim as checks`).toBeGreaterThan(0);
      expect(typeof doc.description, `${file} has a description`).toBe('string');
    }, 300_000);
  }
});

// A check that cannot fail proves nothing: where it is cheap, make the claim false and watch the
// gallery's check for it fail (and only the checks that depend on it).
describe('gallery checks fail when their claim is false', () => {
  const failing = async (file: string, sets: string[]) => {
    const r = await ctxlab(['run', `pipelines/${file}`, '--backend', 'wasm', '--json', ...sets.flatMap((s) => ['--set', s])]);
    const report = JSON.parse(r.stdout);
    expect(r.code).toBe(1);
    return report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { text: string }) => c.text.split(' ')[0]) as string[];
  };

  it('streaming-llm: without sinks in the workload, the sink claims fail', async () => {
    const failed = await failing('streaming-llm.json', ['qkv.sinkStrength=0']);
    expect(failed).toEqual(['cmp_stream.rmse', 'cmp_stream.cosine', 'cmp_window.cosine']);
    expect(failed).not.toContain('cmp_stream_nosink.rmse');
  }, 300_000);

  it('bpt-memory: with one query block spanning the sequence, BPT holds the [T, 4d] activation again', async () => {
    const sets = [256, 512, 1024].map((T) => `bpt_${T}.blockSize=1024`);
    expect(await failing('bpt-memory.json', sets)).toEqual(['unfused_256.peakBytes', 'unfused_512.peakBytes', 'unfused_1024.peakBytes', 'bpt_512.peakBytes', 'bpt_1024.peakBytes']);
  }, 300_000);

  it('low-rank-attention: with a flat weight spectrum, rank 16 no longer stays near the full layer', async () => {
    const sets = ['led_full', 'led_16', 'led_4'].map((n) => `${n}.spectrumDecay=0`);
    expect(await failing('low-rank-attention.json', sets)).toEqual(['cmp_16.cosine', 'cmp_4.rmse']);
  }, 300_000);

  it('ring-attention: with as many devices as ring_2, ring_4 no longer holds half as much', async () => {
    expect(await failing('ring-attention.json', ['ring_4.devices=2'])).toEqual(['ring_4.maxDevicePeakBytes']);
  }, 300_000);

  it('ring-attention: with the striped ring laid out contiguously, its busiest device no longer does less', async () => {
    expect(await failing('ring-attention.json', ['ring_4s.layout=contiguous'])).toEqual(['ring_4s.maxDeviceScoreEntries']);
  }, 300_000);

  it('longnet-devices: with as many devices as longnet_4, longnet_8 no longer holds less', async () => {
    expect(await failing('longnet-devices.json', ['longnet_8.devices=4'])).toEqual(['longnet_8.maxDevicePeakBytes']);
  }, 300_000);

  it('kivi: at 4 bits "kivi2" is not under half an fp16 cache', async () => {
    expect(await failing('kivi.json', ['kivi2.bits=4'])).toContain('kivi2.finalBytes');
  }, 300_000);
});
