import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry } from '../../nodes/index.js';
import { evictionTimeline, kvCacheMetrics } from '../../nodes/kv-cache/metrics.js';
import { modelMemoryMetrics, passkeyMetrics, perplexityMetrics } from '../../nodes/model/metrics.js';
import { positionMetrics } from '../../nodes/position/metrics.js';
import type { AnyNodeDef } from '../../engine/node.js';
import { metricsPortDeclaring, nodesDeclaring, sourcesOfKind } from './declared.js';

const def = (metrics: z.ZodType): AnyNodeDef => ({ ...registry.get('compare')!, outputs: { report: { kind: 'metrics', metrics } } }) as AnyNodeDef;

describe('nodes found by what they declare', () => {
  it('finds a port by its whole schema or by one field, optional or not, and only by identity', () => {
    expect(metricsPortDeclaring(registry.get('kv-cache'), evictionTimeline, 'timeline')).toBe('metrics');
    expect(metricsPortDeclaring(registry.get('position'), positionMetrics)).toBe('metrics');
    // The evaluation and memory views' nodes.
    expect(metricsPortDeclaring(registry.get('eval.perplexity'), perplexityMetrics)).toBe('metrics');
    expect(metricsPortDeclaring(registry.get('eval.passkey'), passkeyMetrics)).toBe('metrics');
    expect(metricsPortDeclaring(registry.get('model.memory'), modelMemoryMetrics)).toBe('metrics');
    expect(metricsPortDeclaring(registry.get('eval.passkey'), perplexityMetrics)).toBeUndefined();
    expect(metricsPortDeclaring(def(z.object({ t: evictionTimeline.optional() })), evictionTimeline, 't')).toBe('report');
    // A look-alike schema is not the declared one.
    expect(metricsPortDeclaring(def(z.object({ timeline: z.object({ step: z.array(z.number()) }) })), evictionTimeline, 'timeline')).toBeUndefined();
    expect(metricsPortDeclaring(registry.get('attention'), kvCacheMetrics)).toBeUndefined();
    expect(metricsPortDeclaring(undefined, kvCacheMetrics)).toBeUndefined();
  });

  it('lists the graph nodes that declare it, whatever their type', () => {
    const nodes = [
      { id: 'a', data: { type: 'kv-cache' } },
      { id: 'b', data: { type: 'attention' } },
      { id: 'c', data: { type: 'no-such-type' } },
      { id: 'd', data: { type: 'custom' } },
    ];
    const defOf = (t: string) => (t === 'custom' ? def(z.looseObject({ timeline: evictionTimeline })) : registry.get(t));
    expect(nodesDeclaring(nodes, defOf, evictionTimeline, 'timeline')).toEqual([{ id: 'a', port: 'metrics' }, { id: 'd', port: 'report' }]);
  });

  it("finds what feeds an input by the kind of value it declares, whatever the port's name", () => {
    const nodes = [
      { id: 'plan', data: { type: 'model.memory' } },
      { id: 'renamed', data: { type: 'planner' } },
      { id: 'alone', data: { type: 'model.memory' } },
    ];
    // A planner whose model input is called `cfg`, beside a tensor input that a name search would not tell apart.
    const planner = { ...registry.get('model.memory')!, inputs: { weights: { kind: 'tensor' }, cfg: { kind: 'model' } } } as AnyNodeDef;
    const defOf = (t: string) => (t === 'planner' ? planner : registry.get(t));
    const edges = [
      { source: 'cfgnode', sourceHandle: 'model', target: 'plan', targetHandle: 'model' },
      { source: 'npy', sourceHandle: 'out', target: 'renamed', targetHandle: 'weights' },
      { source: 'load', sourceHandle: 'model', target: 'renamed', targetHandle: 'cfg' },
    ];
    expect(sourcesOfKind(['plan', 'renamed', 'alone', 'missing'], nodes, edges, defOf, 'model')).toEqual(['cfgnode.model', 'load.model', '', '']);
  });
});
