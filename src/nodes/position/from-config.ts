// A model config's rotary embedding as position params, with HF's names and semantics
// (transformers' modeling_rope_utils): rope_theta, rope_scaling {rope_type | type, factor, …},
// head_dim, partial_rotary_factor / rotary_pct. The variants then compute exactly HF's inv_freq and
// attention factor.
import type { ModelArch } from '../model/config.js';
import { ModelConfigError } from '../model/config.js';
import type { PositionParams } from './common.js';

export type ConfigPositionParams = PositionParams & Record<string, unknown>;

export interface ConfigRope {
  /** Params of an existing variant (rope, linear, dynamic, yarn, longrope, llama3). */
  params: ConfigPositionParams;
  /** The head dim the model's q and k have where RoPE applies (DeepSeek MLA: qk_rope_head_dim). */
  headDim: number;
  /** Dims that rotate, the first ones of each head (less than headDim with a partial rotary factor). */
  rotaryDims: number;
}

/** HF's YaRN temperature: 0.1·mscale·ln(s) + 1 (1 when s ≤ 1). */
const getMscale = (s: number, mscale = 1) => (s <= 1 ? 1 : 0.1 * mscale * Math.log(s) + 1);

/**
 * The rotary of a layer (default: a global one). Gemma 3's sliding layers use rope_local_base_freq
 * and no scaling, as HF's Gemma3 rotary_emb_local does. `scaling` overrides rope_scaling (a technique
 * plugged into a real model).
 */
export function ropeFromConfig(
  a: ModelArch,
  opts: { layer?: number; positionOffset?: number; /** replaces the config's rope_scaling (HF names; null: none) */ scaling?: Record<string, unknown> | null } = {},
): ConfigRope {
  const fail = (msg: string): never => {
    throw new ModelConfigError(`${a.source}: ${msg}`);
  };
  if (a.positions === 'learned' || !a.rope)
    return fail(`${a.modelType} uses learned absolute positions (transformer.wpe), not a rotary embedding; the position node cannot take its config`);
  const r = a.rope;
  if (opts.layer !== undefined && (opts.layer < 0 || opts.layer >= a.numLayers)) fail(`layer ${opts.layer} is out of range: the model has ${a.numLayers} layers`);
  const local = opts.layer !== undefined && a.layerKinds[opts.layer] === 'sliding' && r.localTheta !== undefined;
  const common = { base: local ? r.localTheta! : r.theta, positionOffset: opts.positionOffset ?? 0, layout: r.layout };
  const headDim = a.mla ? a.mla.qkRopeHeadDim : a.headDim;
  const out = (params: ConfigPositionParams): ConfigRope => ({ params, headDim, rotaryDims: r.rotaryDim });
  const s = local ? null : opts.scaling !== undefined ? opts.scaling : r.scaling;
  const type = s ? (s.rope_type ?? s.type ?? 'default') : 'default';
  const num = (key: string, def?: number): number => {
    const v = s?.[key] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return fail(`rope_scaling.${key} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const list = (key: string): number[] => {
    const v = s?.[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !(x > 0))) return fail(`rope_scaling.${key} must be a list of positive numbers`);
    if (v.length !== r.rotaryDim / 2) fail(`rope_scaling.${key} has ${v.length} entries; the rotary dims (${r.rotaryDim}) need ${r.rotaryDim / 2}`);
    return v as number[];
  };
  switch (type) {
    case 'default':
      return out({ variant: 'rope', ...common });
    case 'linear':
      return out({ variant: 'linear', ...common, factor: num('factor') });
    case 'dynamic':
      return out({ variant: 'dynamic', ...common, factor: num('factor'), maxPositionEmbeddings: a.maxPositionEmbeddings });
    case 'yarn': {
      if (s!.truncate === false) fail('rope_scaling.truncate = false (unrounded correction range) is not supported');
      // HF: the explicit factor; original_max_position_embeddings from rope_scaling, else max_position_embeddings.
      const factor = num('factor');
      const orig = num('original_max_position_embeddings', a.maxPositionEmbeddings);
      const mscale = s!.mscale as number | undefined;
      const mscaleAllDim = s!.mscale_all_dim as number | undefined;
      const attentionFactor =
        s!.attention_factor !== undefined && s!.attention_factor !== null
          ? num('attention_factor')
          : mscale && mscaleAllDim
            ? getMscale(factor, mscale) / getMscale(factor, mscaleAllDim)
            : getMscale(factor);
      return out({ variant: 'yarn', ...common, factor, originalMaxPositionEmbeddings: orig, betaFast: num('beta_fast', 32), betaSlow: num('beta_slow', 1), attentionFactor });
    }
    case 'longrope':
    case 'su': {
      // HF: original_max_position_embeddings is a top-level key of Phi-3's config (or inside rope_scaling).
      const orig = a.originalMaxPositionEmbeddings ?? num('original_max_position_embeddings', a.maxPositionEmbeddings);
      const params: ConfigPositionParams = {
        variant: 'longrope',
        ...common,
        shortFactor: list('short_factor'),
        longFactor: list('long_factor'),
        originalMaxPositionEmbeddings: orig,
        maxPositionEmbeddings: a.maxPositionEmbeddings,
      };
      if (s!.attention_factor !== undefined && s!.attention_factor !== null) params.attentionFactor = num('attention_factor');
      return out(params);
    }
    case 'llama3':
      return out({
        variant: 'llama3',
        ...common,
        factor: num('factor'),
        lowFreqFactor: num('low_freq_factor'),
        highFreqFactor: num('high_freq_factor'),
        originalMaxPositionEmbeddings: num('original_max_position_embeddings'),
      });
    default:
      return fail(`rope_scaling type ${JSON.stringify(type)} is not supported; supported: default, linear, dynamic, yarn, longrope (su), llama3`);
  }
}
