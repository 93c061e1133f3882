// The schema declared on the position node's metrics port describes what every variant reports.
import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import { position } from './index.js';
import { positionMetrics } from './metrics.js';
import { examplesOf } from '../parity-examples.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i));

describe('position metrics schema', () => {
  it('is declared on the metrics port', () => {
    expect(position.outputs.metrics.metrics).toBe(positionMetrics);
  });

  for (const given of examplesOf('position'))
    it(`parses what ${String(given.variant)} reports`, () => {
      const [H, T, D] = [2, 32, 16];
      const out = position.reference!({ q: f32([H, T, D], ramp(H * T * D)), k: f32([H, T, D], ramp(H * T * D)) } as never, position.params.parse(given));
      const r = positionMetrics.safeParse(out.metrics!.values);
      expect(r.error?.issues ?? []).toEqual([]);
      expect(r.data!.variant).toBe(given.variant);
    });
});
