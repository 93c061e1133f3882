// src/engine/backends/tf.ts
import * as tf2 from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

// src/engine/backends/wasm-slice.ts
import * as tf from "@tensorflow/tfjs-core";
function registerFastWasmSlice() {
  const original = tf.getKernel("Slice", "wasm");
  if (!original || original.fast) return;
  const kernelFunc = (args) => {
    const { x } = args.inputs;
    if (x.dtype === "string") return original.kernelFunc(args);
    const { begin, size } = args.attrs;
    const backend = args.backend;
    const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size);
    const out = backend.makeOutput(size_, x.dtype);
    const xVals = backend.typedArrayFromHeap(x);
    const outVals = backend.typedArrayFromHeap(out);
    const strides = tf.util.computeStrides(x.shape);
    if (tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
      const offset = tf.slice_util.computeFlatOffset(begin_, strides);
      outVals.set(xVals.subarray(offset, offset + tf.util.sizeFromShape(size_)));
      return out;
    }
    const rank = x.shape.length;
    const inner = size_[rank - 1];
    const outer = tf.util.sizeFromShape(size_.slice(0, -1));
    const outerStrides = tf.util.computeStrides([...size_.slice(0, -1), 1]);
    for (let r = 0; r < outer; r++) {
      let rem = r;
      let offset = begin_[rank - 1];
      for (let d = 0; d < rank - 1; d++) {
        const stride = outerStrides[d];
        const idx = Math.floor(rem / stride);
        rem -= idx * stride;
        offset += (begin_[d] + idx) * strides[d];
      }
      outVals.set(xVals.subarray(offset, offset + inner), r * inner);
    }
    return out;
  };
  tf.unregisterKernel("Slice", "wasm");
  tf.registerKernel({ kernelName: "Slice", backendName: "wasm", kernelFunc, fast: true });
}

// src/engine/backends/tf.ts
tf2.env().set("PROD", true);
var FALLBACK = { webgpu: "wasm", wasm: "cpu", cpu: void 0 };
var wasmLoaded = false;
var webgpuLoaded = false;
async function tryBackend(name, setup) {
  try {
    if (name === "wasm" && !wasmLoaded) {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      if (setup.wasmPaths) wasm.setWasmPaths(setup.wasmPaths);
      registerFastWasmSlice();
      wasmLoaded = true;
    }
    let adapter;
    if (name === "webgpu") {
      const nav = globalThis.navigator;
      if (!nav?.gpu && setup.provideWebGPU) {
        const why = await setup.provideWebGPU();
        if (why) return { ok: false, reason: why };
      }
      const gpu = globalThis.navigator?.gpu;
      if (!gpu) return { ok: false, reason: "WebGPU is not available here (no navigator.gpu)" };
      const a = await gpu.requestAdapter();
      if (!a) return { ok: false, reason: "WebGPU has no adapter on this machine" };
      const info = a.info;
      adapter = {
        vendor: info?.vendor || "unknown",
        architecture: info?.architecture || "unknown",
        description: info?.description || void 0,
        isFallbackAdapter: a.isFallbackAdapter ?? info?.isFallbackAdapter
      };
      if (!webgpuLoaded) {
        await import("@tensorflow/tfjs-backend-webgpu");
        webgpuLoaded = true;
      }
    }
    const ok = await tf2.setBackend(name);
    if (!ok) return { ok: false, reason: `tfjs could not initialise the ${name} backend` };
    await tf2.ready();
    return { ok: true, adapter };
  } catch (err) {
    return { ok: false, reason: `${name} failed to start: ${err.message}` };
  }
}
async function initBackend(requested, setup) {
  let name = requested;
  const reasons = [];
  while (name) {
    const r = await tryBackend(name, setup);
    if (r.ok) {
      const info = { requested, name, host: setup.host };
      if (reasons.length) info.fallbackReason = reasons.join("; ");
      if (r.adapter) info.adapter = r.adapter;
      return { tf: tf2, info };
    }
    reasons.push(r.reason);
    name = FALLBACK[name];
  }
  throw new Error(`no tfjs backend could start: ${reasons.join("; ")}`);
}

// src/engine/node/setup.ts
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
async function provideNodeWebGPU() {
  try {
    if (!process.env.XDG_RUNTIME_DIR) {
      const dir = join(tmpdir(), "ctxlab-xdg");
      mkdirSync(dir, { recursive: true, mode: 448 });
      process.env.XDG_RUNTIME_DIR = dir;
    }
    const { create, globals } = await import("webgpu");
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      return "no WebGPU adapter in Node: install a Vulkan driver (Debian: mesa-vulkan-drivers from bookworm-backports, see .ci/run)";
    const g = globalThis;
    if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
    return void 0;
  } catch (err) {
    return `the webgpu package could not start Dawn: ${err.message}`;
  }
}
function nodeBackendSetup(host = "in-process") {
  return { host, provideWebGPU: provideNodeWebGPU };
}

// bench/context.ts
async function ctxFor(backend) {
  const { tf: tf3, info } = await initBackend(backend, nodeBackendSetup("bench"));
  if (info.name !== backend) throw new Error(`${backend} unavailable: ${info.fallbackReason}`);
  let tracked = 0;
  let peak = 0;
  return {
    nodeId: "bench",
    backend,
    tf: tf3,
    checkCancelled: () => {
      peak = Math.max(peak, tf3.memory().numBytes + tracked);
    },
    progress: () => {
    },
    isConnected: () => false,
    track: (b) => {
      tracked += b;
      peak = Math.max(peak, tf3.memory().numBytes + tracked);
    },
    release: (b) => tracked -= b,
    emit: () => {
    },
    readFile: () => Promise.reject(new Error("no files in benchmarks")),
    openFile: () => Promise.reject(new Error("no files in benchmarks")),
    resolvePath: (p) => p,
    get peak() {
      return peak;
    },
    set peak(v) {
      peak = v;
    }
  };
}

// src/engine/tensor.ts
var ctors = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, uint32: Uint32Array };
function sizeOf(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function allocArray(dtype, length) {
  return new ctors[dtype](length);
}
function tensor(dtype, shape, data, dims) {
  const n = sizeOf(shape);
  let arr;
  if (data === void 0) arr = allocArray(dtype, n);
  else if (data instanceof ctors[dtype]) arr = data;
  else arr = ctors[dtype].from(data);
  if (arr.length !== n) throw new Error(`tensor data has ${arr.length} elements but shape [${shape.join(", ")}] needs ${n}`);
  return dims ? { kind: "tensor", dtype, shape, dims, data: arr } : { kind: "tensor", dtype, shape, data: arr };
}
var f32 = (shape, data, dims) => tensor("float32", shape, data, dims);
function squeezeBatch(t, rank) {
  if (t.shape.length === rank + 1 && t.shape[0] === 1) {
    return { ...t, shape: t.shape.slice(1), dims: t.dims?.slice(1) };
  }
  return t;
}

// src/nodes/model/config.ts
var SUPPORTED_MODEL_TYPES = [
  "llama",
  "mistral",
  "qwen2",
  "phi3",
  "gemma2",
  "gemma3",
  "gemma3_text",
  "gpt_neox",
  "gpt2",
  "deepseek_v2",
  "deepseek_v3"
];
var ModelConfigError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ModelConfigError";
  }
};
var Reader = class {
  constructor(raw, where) {
    this.raw = raw;
    this.where = where;
  }
  raw;
  where;
  fail(msg) {
    throw new ModelConfigError(`${this.where}: ${msg}`);
  }
  has(key) {
    return this.raw[key] !== void 0 && this.raw[key] !== null;
  }
  /** A positive integer, required unless a default is given. */
  int(key, def) {
    const v = this.raw[key] ?? def;
    if (v === void 0 || v === null) this.fail(`missing required key "${key}"`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) this.fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }
  /** A non-negative integer (expert counts, first_k_dense_replace may be 0). */
  count(key, def) {
    const v = this.raw[key] ?? def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) this.fail(`"${key}" must be an integer \u2265 0, got ${JSON.stringify(v)}`);
    return v;
  }
  optInt(key) {
    return this.has(key) ? this.int(key) : null;
  }
  num(key, def) {
    const v = this.raw[key] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) this.fail(`"${key}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(key, def) {
    const v = this.raw[key] ?? def;
    if (typeof v !== "boolean") this.fail(`"${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  obj(key) {
    const v = this.raw[key];
    if (v === void 0 || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(`"${key}" must be an object, got ${JSON.stringify(v)}`);
    return v;
  }
};
var TIED_BY_DEFAULT = { gemma2: true, gemma3: true, gemma3_text: true, gpt2: true };
function parseModelConfig(config, source = "config.json") {
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new ModelConfigError(`${source}: a config must be a JSON object`);
  let raw = config;
  const type = raw.model_type;
  if (typeof type !== "string" || !SUPPORTED_MODEL_TYPES.includes(type))
    throw new ModelConfigError(
      `${source}: ${type === void 0 ? 'missing required key "model_type"' : `unsupported model_type ${JSON.stringify(type)}`}; supported: ${SUPPORTED_MODEL_TYPES.join(", ")}`
    );
  let modelType = type;
  if (modelType === "gemma3") {
    const text = new Reader(raw, source).obj("text_config");
    if (!text) throw new ModelConfigError(`${source}: model_type "gemma3" needs "text_config" (the language model's config)`);
    raw = { tie_word_embeddings: raw.tie_word_embeddings, ...text, model_type: "gemma3_text" };
    modelType = "gemma3_text";
  }
  const r = new Reader(raw, source);
  if (modelType === "gpt2") return parseGpt2(r, source);
  const hiddenSize = r.int("hidden_size");
  const numHeads = r.int("num_attention_heads");
  const isMla = modelType === "deepseek_v2" || modelType === "deepseek_v3";
  const isGemma = modelType === "gemma2" || modelType === "gemma3_text";
  if (!r.has("head_dim") && hiddenSize % numHeads !== 0 && !isMla)
    r.fail(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}, and no "head_dim" is given`);
  const headDim = isMla ? r.int("qk_nope_head_dim") + r.int("qk_rope_head_dim") : r.int("head_dim", hiddenSize / numHeads);
  const numKvHeads = r.int("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) r.fail(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  const numLayers = r.int("num_hidden_layers");
  const neox = modelType === "gpt_neox";
  const partialRotaryFactor = neox ? r.num("rotary_pct", 0.25) : r.num("partial_rotary_factor", 1);
  if (partialRotaryFactor > 1) r.fail(`"${neox ? "rotary_pct" : "partial_rotary_factor"}" must be at most 1, got ${partialRotaryFactor}`);
  const rope3 = {
    theta: neox && !r.has("rope_theta") ? r.num("rotary_emb_base", 1e4) : r.num("rope_theta", modelType === "gemma3_text" ? 1e6 : 1e4),
    scaling: r.obj("rope_scaling"),
    partialRotaryFactor,
    rotaryDim: isMla ? r.int("qk_rope_head_dim") : Math.floor(headDim * partialRotaryFactor),
    layout: isMla && r.bool("rope_interleave", true) ? "interleaved" : "half"
  };
  if (modelType === "gemma3_text") rope3.localTheta = r.num("rope_local_base_freq", 1e4);
  if (rope3.rotaryDim % 2 !== 0) r.fail(`the rotary dims (${rope3.rotaryDim}) must be even`);
  const { slidingWindow: slidingWindow2, layerKinds } = layerPattern(r, modelType, numLayers);
  const arch = {
    modelType,
    source,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.int("intermediate_size"),
    vocabSize: r.int("vocab_size"),
    tieWordEmbeddings: r.bool("tie_word_embeddings", TIED_BY_DEFAULT[modelType] ?? false),
    maxPositionEmbeddings: r.int("max_position_embeddings"),
    originalMaxPositionEmbeddings: r.optInt("original_max_position_embeddings"),
    norm: neox ? "layer" : "rms",
    normsPerLayer: isGemma ? 4 : 2,
    qkNorm: modelType === "gemma3_text",
    mlp: neox ? "plain" : "gated",
    bias: neox ? { qkv: r.bool("attention_bias", true), o: r.bool("attention_bias", true), mlp: true } : modelType === "qwen2" ? { qkv: true, o: false, mlp: false } : { qkv: r.bool("attention_bias", false), o: r.bool("attention_bias", false), mlp: r.bool("mlp_bias", false) },
    positions: "rope",
    rope: rope3,
    slidingWindow: slidingWindow2,
    layerKinds,
    queryPreAttnScalar: isGemma ? r.num("query_pre_attn_scalar", headDim) : null
  };
  if (isMla) {
    arch.mla = {
      kvLoraRank: r.int("kv_lora_rank"),
      qLoraRank: r.optInt("q_lora_rank"),
      qkRopeHeadDim: r.int("qk_rope_head_dim"),
      qkNopeHeadDim: r.int("qk_nope_head_dim"),
      vHeadDim: r.int("v_head_dim")
    };
    const experts = r.count("n_routed_experts", 0);
    if (experts > 0)
      arch.moe = {
        nRoutedExperts: experts,
        nSharedExperts: r.count("n_shared_experts", 0),
        moeIntermediateSize: r.int("moe_intermediate_size"),
        numExpertsPerTok: r.int("num_experts_per_tok"),
        firstKDenseReplace: r.count("first_k_dense_replace", 0),
        moeLayerFreq: r.int("moe_layer_freq", 1),
        scoreCorrectionBias: raw.topk_method === "noaux_tc"
      };
  }
  return arch;
}
function parseGpt2(r, source) {
  const hiddenSize = r.int("n_embd");
  const numHeads = r.int("n_head");
  if (hiddenSize % numHeads !== 0) r.fail(`n_embd ${hiddenSize} is not a multiple of n_head ${numHeads}`);
  const numLayers = r.int("n_layer");
  return {
    modelType: "gpt2",
    source,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: r.int("n_inner", 4 * hiddenSize),
    // n_inner: null means 4·n_embd
    vocabSize: r.int("vocab_size"),
    tieWordEmbeddings: r.bool("tie_word_embeddings", true),
    maxPositionEmbeddings: r.int("n_positions"),
    originalMaxPositionEmbeddings: null,
    norm: "layer",
    normsPerLayer: 2,
    qkNorm: false,
    mlp: "plain",
    bias: { qkv: true, o: true, mlp: true },
    positions: "learned",
    slidingWindow: null,
    layerKinds: Array(numLayers).fill("global"),
    queryPreAttnScalar: null
  };
}
function layerPattern(r, type, L) {
  const kinds = (slides) => Array.from({ length: L }, (_, i) => slides(i) ? "sliding" : "global");
  const window = r.optInt("sliding_window");
  const given = r.raw.layer_types;
  if (given !== void 0 && given !== null) {
    if (!Array.isArray(given) || given.length !== L) r.fail(`"layer_types" must list ${L} entries (num_hidden_layers)`);
    const layerKinds = given.map((t, i) => {
      if (t === "full_attention") return "global";
      if (t === "sliding_attention") return "sliding";
      return r.fail(`layer_types[${i}] is ${JSON.stringify(t)}; expected "full_attention" or "sliding_attention"`);
    });
    if (layerKinds.includes("sliding") && window === null) r.fail('"layer_types" has sliding_attention layers but "sliding_window" is not set');
    return { slidingWindow: layerKinds.includes("sliding") ? window : null, layerKinds };
  }
  switch (type) {
    case "mistral":
    case "phi3":
      return { slidingWindow: window, layerKinds: kinds(() => window !== null) };
    case "qwen2": {
      const on = r.bool("use_sliding_window", false) && window !== null;
      const from = r.count("max_window_layers", L);
      return { slidingWindow: on ? window : null, layerKinds: kinds((i) => on && i >= from) };
    }
    case "gemma2":
      return { slidingWindow: r.int("sliding_window", 4096), layerKinds: kinds((i) => i % 2 === 0) };
    case "gemma3_text": {
      const pattern2 = r.int("sliding_window_pattern", 6);
      return { slidingWindow: r.int("sliding_window", 4096), layerKinds: kinds((i) => (i + 1) % pattern2 !== 0) };
    }
    default:
      return { slidingWindow: null, layerKinds: kinds(() => false) };
  }
}
function readModelConfig(bytes, source) {
  let raw;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ModelConfigError(`${source}: not a JSON file (${err.message})`);
  }
  return { raw, arch: parseModelConfig(raw, source) };
}

// src/engine/variants.ts
import { z } from "zod";
function variantName(v) {
  return v.params.shape.variant.value;
}
function variantFamily(list) {
  const byName3 = new Map(list.map((v) => [variantName(v), v]));
  if (byName3.size !== list.length) throw new Error(`duplicate variant names in [${list.map(variantName).join(", ")}]`);
  return {
    byName: byName3,
    /** The params schema: a discriminated union on `variant`. */
    params: z.discriminatedUnion("variant", list.map((v) => v.params)),
    docs: Object.fromEntries([...byName3].map(([name, v]) => [name, v.doc])),
    references: list.flatMap((v) => v.doc.references ?? []),
    /** The variant module of a parsed params object. */
    of: (p) => byName3.get(p.variant)
  };
}

// src/engine/node.ts
function defineNode(def) {
  return def;
}
var ShapeError = class extends Error {
  constructor(port, message) {
    super(message);
    this.port = port;
    this.name = "ShapeError";
  }
  port;
};

// src/engine/values.ts
var metrics = (values) => ({ kind: "metrics", values });
var tensorShape = (dtype, shape, dims) => dims ? { kind: "tensor", dtype, shape, dims } : { kind: "tensor", dtype, shape };

// src/nodes/attention/bigbird.ts
import { z as z3 } from "zod";

// src/nodes/common/random.ts
function mix32(a) {
  a = a + 2654435769 | 0;
  let z34 = a;
  z34 = Math.imul(z34 ^ z34 >>> 16, 2246822507);
  z34 = Math.imul(z34 ^ z34 >>> 13, 3266489909);
  return (z34 ^ z34 >>> 16) >>> 0;
}
function rng(seed, ...stream) {
  let state = mix32(seed | 0);
  for (const s2 of stream) state = mix32(state ^ mix32(s2 | 0));
  return () => {
    state = state + 1831565813 | 0;
    let t = state;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function gaussian(uniform) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const s2 = spare;
      spare = null;
      return s2;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

// src/nodes/attention/common.ts
import { z as z2 } from "zod";

// src/engine/shapes.ts
function bindDims(env2, port, s2, names, opts2 = {}) {
  if (!s2) throw new ShapeError(port, `input "${port}" is not connected`);
  if (s2.kind !== "tensor") throw new ShapeError(port, `"${port}" expects a tensor, got ${s2.kind}`);
  if (!s2.shape) return names.map((n) => env2[n] ?? null);
  let shape = s2.shape;
  if (shape.length === names.length + 1 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length !== names.length)
    throw new ShapeError(port, `"${port}" expects rank ${names.length} [${names.join(", ")}], got [${shape.map((d) => d ?? "?").join(", ")}]`);
  if (opts2.dtype && s2.dtype && s2.dtype !== opts2.dtype)
    throw new ShapeError(port, `"${port}" expects ${opts2.dtype}, got ${s2.dtype}`);
  names.forEach((name, i) => {
    const d = shape[i];
    const prev = env2[name];
    if (prev === void 0 || prev === null) env2[name] = d;
    else if (d !== null && d !== prev)
      throw new ShapeError(port, `"${port}" dim ${name} = ${d} does not match ${name} = ${prev} from another input`);
  });
  return shape;
}
function requireDivides(port, what, a, b) {
  if (a !== null && b !== null && (a === 0 || b % a !== 0))
    throw new ShapeError(port, `${what}: ${a} must divide ${b}`);
}

// src/nodes/attention/common.ts
var commonParams = {
  causal: z2.boolean().default(true).describe("mask keys after the query position"),
  scale: z2.number().positive().optional().describe("score scale; default 1/\u221AD")
};
function inferAttention(ins) {
  const env2 = {};
  const [H, Tq, D] = bindDims(env2, "q", ins.q, ["H", "Tq", "D"], { dtype: "float32" });
  const [Hkv, Tk] = bindDims(env2, "k", ins.k, ["Hkv", "Tk", "D"], { dtype: "float32" });
  const [, , Dv] = bindDims(env2, "v", ins.v, ["Hkv", "Tk", "Dv"], { dtype: "float32" });
  requireDivides("k", "grouped-query attention: kv heads", Hkv, H);
  return { H: H ?? 0, Hkv: Hkv ?? 0, Tq: Tq ?? 0, Tk: Tk ?? 0, D: D ?? 0, Dv: Dv ?? 0 };
}
function exactFlops(s2, causal) {
  const full = 2 * s2.H * s2.Tq * s2.Tk * (s2.D + s2.Dv);
  return causal && s2.Tq === s2.Tk ? full / 2 : full;
}
var scaleOf = (p, D) => p.scale ?? 1 / Math.sqrt(D);
function headView(t, h) {
  const [T, D] = t.shape.slice(-2);
  return t.data.subarray(h * T * D, (h + 1) * T * D);
}
var groupOf = (h, s2) => Math.floor(h / (s2.H / s2.Hkv));
function biasPlan(bias) {
  const terms = bias?.terms ?? [];
  if (terms.length === 0) return { kind: "none" };
  if (terms.every((t) => t.type === "alibi")) {
    const lists = terms.map((t) => t.slopes);
    return { kind: "alibi", slope: (h) => lists.reduce((m, l) => m + l[h % l.length], 0) };
  }
  return { kind: "general" };
}
function uploadHead(tf3, q, k, v, h, g, scale, s2) {
  return tf3.tidy(() => [
    tf3.mul(tf3.tensor2d(headView(q, h), [s2.Tq, s2.D]), scale),
    tf3.tensor2d(headView(k, g), [s2.Tk, s2.D]),
    tf3.tensor2d(headView(v, g), [s2.Tk, s2.Dv])
  ]);
}

// src/kernels/wasm/attention.wasm.ts
var attentionWasmBase64 = "AGFzbQEAAAABKgZgAn9/AGAGf39/f39/AGAEf39/fwBgB39/f39/f38Bf2ABfwF9YAABfwISAQNlbnYGbWVtb3J5AgMBgIAEAwcGAAECAwQFBAUBcAEBAQYNAn8BQYAoC38AQYAoCwdRBgpleHAyX2FycmF5AAAJcnVuX3JhbmdlAAEJcnVuX3F1ZXVlAAMEcGVhawAEE3BlYWtfZmxvcHNfcGVyX2l0ZXIABQtfX2hlYXBfYmFzZQMBCtc6BuUCAgF/AnsCQCABQQFIDQBBACECA0AgACAA/QAAAP0MAAD+wgAA/sIAAP7CAAD+wv3rASIDIAP9DAAAQEsAAEBLAABASwAAQEv95AEiBP0MAABAywAAQMsAAEDLAABAy/3kAf3lASIDIAMgAyADIAMgAyAD/Qz+5X83/uV/N/7lfzf+5X83/eYB/QyJhCE5iYQhOYmEITmJhCE5/eQB/eYB/Qz/w646/8OuOv/Drjr/w646/eQB/eYB/QxblR08W5UdPFuVHTxblR08/eQB/eYB/QxHWGM9R1hjPUdYYz1HWGM9/eQB/eYB/Qzw/XU+8P11PvD9dT7w/XU+/eQB/eYB/QwYcjE/GHIxPxhyMT8YcjE//eQB/eYB/QwAAIA/AACAPwAAgD8AAIA//eQBIARBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf0LAAAgAEEQaiEAIAJBBGoiAiABSA0ACwsLPgACQCADIARODQAgBCADayEEIAEgA0EFdGohAwNAIAAgAyACIAUQgoCAgAAgA0EgaiEDIARBf2oiBA0ACwsLwDILBn8BfRd/AnsHfwF7G38LewV/BX0FeyAAKAIIIQQgASgCACIFIAAoAkxtIQYgACgCBCEHIAEoAgghCAJAAkAgACgCMCIJDQBDAAAAACEKDAELIAkgBUECdGoqAgAhCgsgACgCDCELIAAoAgAhDCAAKAIkIQ0gACgCFCEOIAEoAgQhDyAAKAIYIRAgACgCECERIAMgBEEEdGoiEkEQaiITIAhBA2pBBG0iFEECdCIJIAdsIhVBAnRqIhYgFEEEdGohFyAEQQJ0IRgCQCAIQQFIDQBBACEZAkAgCUEBIAlBAUobIhpBBEkNAAJAIBogGGpBAnQgA2ogFCAHQQR0QRBqbGpBEGogFk0NACAXIBogFWogGGpBAnQgA2pBEGpJDQELIBpB/P///wdxIhlBfGoiCUECdkEBaiIbQQNxIRxBACEdAkAgCUEMSQ0AIARBBHQhHiAbQfz///8HcSEfIAMgFUECdGohICADIBQgB0EEdEEQamxqISFBACEdA0AgISAeaiIJQRBq/QwAAAAAAAAAAAAAAAAAAAAAIiL9CwIAICAgHmoiG0EQav0MAACA/wAAgP8AAID/AACA/yIj/QsCACAbQSBqICP9CwIAIAlBIGogIv0LAgAgG0EwaiAj/QsCACAJQTBqICL9CwIAIBtBwABqICP9CwIAIAlBwABqICL9CwIAICFBwABqISEgIEHAAGohICAdQRBqIR0gH0F8aiIfDQALCwJAIBxFDQAgHSAYakECdCADaiAUIAdBBHRBEGpsakEQaiEJIB0gFWogGGpBAnQgA2pBEGohGwNAIAn9DAAAAAAAAAAAAAAAAAAAAAD9CwIAIBv9DAAAgP8AAID/AACA/wAAgP/9CwIAIBtBEGohGyAJQRBqIQkgHEF/aiIcDQALCyAaIBlGDQELIBogGUF/c2ohIQJAIBpBAXEiIEUNACAZIBhqQQJ0IANqIBQgB0EEdEEQamxqQRBqIQkgGSAVaiAYakECdCADakEQaiEbA0AgG0GAgIB8NgIAIAlBADYCACAbQQRqIRsgCUEEaiEJIBlBAWohGSAgQX9qIiANAAsLICFBA0kNACADIBhBAnRqIBQgB0EEdEEQamxqISAgGUECdCEhIBogGWshHCADIBUgGGpBAnRqIRkDQCAZICFqIglBEGpBgICAfDYCACAgICFqIhtBEGpBADYCACAJQRRqQYCAgHw2AgAgG0EUakEANgIAIAlBGGpBgICAfDYCACAbQRhqQQA2AgAgCUEcakGAgIB8NgIAIBtBHGpBADYCACAZQRBqIRkgIEEQaiEgIBxBfGoiHA0ACwsCQCAVQQFIDQAgFUF8aiIJQQJ2QQFqIhtBB3EhGUEAISACQCAJQRxJDQAgG0H4////B3EhGyAYQQJ0IANqQcAAaiEJQQAhIANAIAn9DAAAAAAAAAAAAAAAAAAAAAAiIv0LAgAgCUHAAGogIv0LAgAgCUEwaiAi/QsCACAJQSBqICL9CwIAIAlBEGogIv0LAgAgCUFwaiAi/QsCACAJQWBqICL9CwIAIAlBUGogIv0LAgAgCUGAAWohCSAgQSBqISAgG0F4aiIbDQALCyAZRQ0AIBlBBHQhGyAgIBhqQQJ0IANqQRBqIQkDQCAJ/QwAAAAAAAAAAAAAAAAAAAAA/QsCACAJQRBqIQkgG0FwaiIbDQALCwJAIAEoAhBBAUgNACAIQQFIDQAgDiAEIAxsIiQgCyAGbCIJbEECdGohJSAQIAkgBGwgB2xBAnRqISYgCEF/aiEnIAMgBEEMbCIaaiEoIAMgBEEDdCIGaiEpIAMgBEECdGohKiAK/RMhKyAUQQEgFEEBShshLCAHQQJ0IR8gB0EDdCEtIAdBBHQhLiAHQQxsIS8gDSAFbCAPakECdCEwIANBMGohMSAEQX9qIjJBAnZBAWoiCUH8////B3EhMyAJQQNxITQgMkEDdkEBaiIJQf7///8DcSE1IAlBAXEhNiAHQQNsQQJ0ITcgB0EBdEECdCE4QQAhOQNAQQIhOiAKQwAAAABcIgUgAiABKAIMIDlqQQJ0aigCACIJciE7IAlBAXEhPCAlICQgCUEBdSIJbEECdGohPSAmIAkgBGwiPiAHbEECdGohP0EDIUAgEiFBQQAhQkEBIUNBACFEA0AgREECdCFFAkAgBEEBSCJGDQACQCAMQQFIDQAgESAMIDAgQiAnIEIgJ0gbQQJ0amxqIQsgESAMIDAgQyAnIEMgJ0gbQQJ0amxqIQ0gESAMIDAgOiAnIDogJ0gbQQJ0amxqIQ4gESAMIDAgQCAnIEAgJ0gbQQJ0amxqIQ9BACEdID0hHgNAIB4hCSALIRsgDSEgIA4hGSAPISEgDCEc/QwAAAAAAAAAAAAAAAAAAAAAIiMhRyAjIUggIyFJICMhSiAjIUsgIyFMICMhTQNAIEggCf0AAAAiIiAh/QkAACJO/eYB/eQBIUggSiAiIBn9CQAAIk/95gH95AEhSiBMICIgIP0JAAAiUP3mAf3kASFMICMgIiAb/QkAACJR/eYB/eQBISMgRyAJQRBq/QAAACIiIE795gH95AEhRyBJICIgT/3mAf3kASFJIEsgIiBQ/eYB/eQBIUsgTSAiIFH95gH95AEhTSAJIBhqIQkgG0EEaiEbICBBBGohICAZQQRqIRkgIUEEaiEhIBxBf2oiHA0ACyADIB1BAnQiCWoiGyBN/QsAECAbICP9CwAAICogCWoiGyBL/QsAECAbIEz9CwAAICkgCWoiGyBJ/QsAECAbIEr9CwAAICggCWoiCSBH/QsAECAJIEj9CwAAIB5BIGohHiAdQQhqIh0gBEgNAAwCCwtBACEhAkAgMkEISQ0AQQAhISA1IRwgMSEJA0AgCUFgav0MAAAAAAAAAAAAAAAAAAAAACIi/QsAACAJQVBqICL9CwAAIAkgGGoiG0FgaiAi/QsAACAbQVBqICL9CwAAIAkgBmoiIEFgaiAi/QsAACAgQVBqICL9CwAAIAkgGmoiGUFgaiAi/QsAACAZQVBqICL9CwAAIAkgIv0LAAAgCUFwaiAi/QsAACAbICL9CwAAIBtBcGogIv0LAAAgICAi/QsAACAgQXBqICL9CwAAIBkgIv0LAAAgGUFwaiAi/QsAACAJQcAAaiEJICFBEGohISAcQX5qIhwNAAsLIDZFDQAgAyAhQQJ0IglqIhv9DAAAAAAAAAAAAAAAAAAAAAAiIv0LABAgGyAi/QsAACAqIAlqIhsgIv0LABAgGyAi/QsAACApIAlqIhsgIv0LABAgGyAi/QsAACAoIAlqIgkgIv0LABAgCSAi/QsAAAsgFyBFQQJ0IglqIVIgFiAJaiFTQQAhDiADIVQDQAJAAkAgO0EBcQ0AIA4gBGwhVQwBCyAOIARsIVUgACgCCEEBSA0AIAAoAiwgPkECdCIZaiEdIAAoAiggASgCBCAOIEVqIgkgJyAJICdIG2pBAnQiG2oiCSgCACIcsv0TIUkCQCA8RQ0AIAMgVUECdGohDSAJ/QkCACFLIAAoAkghDyAAKAJAIRAgACgCOCFWQQAhHgNAICsgHSAeQQJ0IiBq/QAAACJH/foBIEn95QH95gEhSiANICBqIgv9AAAAIUggR0Ef/awB/U0hIgJAIAAoAjQiIUEBSA0AIEsgR/2xASEjIFYhCQNAICL9DAAAAAAAAAAAAAAAAAAAAAD9DAEAAAABAAAAAQAAAAEAAAAgRyAJ/QkCAP05ICNBACAJQQxqKAIAa/0R/T8gIyAJQQhq/QkCAP09/U79UCAcIAlBBGooAgBIG0Ef/asBQR/9rAH9UiEiIAlBEGohCSAhQX9qIiENAAsLIEogSP3kASEjAkAgACgCPCIhQQFIDQAgECEJA0D9DAAAAAAAAAAAAAAAAAAAAAAgIiAJKAIAIBtq/QkCACAJQQhqKAIAIBlqICBq/QAAAP24ASAJQQRqKAIAIBtq/QkCACAJQQxqKAIAIBlqICBq/QAAAP22Af07/VIhIiAJQRBqIQkgIUF/aiIhDQALCyAjIEggBRshIwJAIAAoAkQiIUEBSA0AIA8hCQNAAkAgCSgCACAbaioCACJXQwAAAABbDQAgV/0TIAlBBGooAgAgGWogIGr9AAAA/eYBICP95AEhIwsgCUEIaiEJICFBf2oiIQ0ACwsgCyAj/QwAAID/AACA/wAAgP8AAID/ICL9Uv0LAAAgHkEEaiIeIAAoAghIDQAMAgsLQQAhGyBUIQkDQCAJICsgHf0AAAD9+gEgSf3lAf3mASAJ/QAAACIi/eQBICIgBRv9CwAAIAlBEGohCSAdQRBqIR0gG0EEaiIbIAAoAghIDQALCyBTIA5BAnQiIWohHCADIFVBAnRqIQkCQAJAIEZFDQD9DAAAgP8AAID/AACA/wAAgP8hIgwBC0EAISD9DAAAgP8AAID/AACA/wAAgP8hIgJAIDJBDEkNACAzIRkgCSEbA0AgIiAb/QAAAP3rASAbQRBq/QAAAP3rASAbQSBq/QAAAP3rASAbQTBq/QAAAP3rASEiIBtBwABqIRsgIEEQaiEgIBlBfGoiGQ0ACwsgNEUNACADIFUgIGpBAnRqIRsgNCEgA0AgIiAb/QAAAP3rASEiIBtBEGohGyAgQX9qIiANAAsLIFIgIWohICAcKgIAIldDAAAAACAi/R8DIlggIv0fAiJZICL9HwEiWiAi/R8AIlsgWiBbXhsiWiBZIFpeGyJZIFggWV4bIlggVyBYIFdeGyJYIFhDAACA/1sbIlmT/RP9DAAA/sIAAP7CAAD+wgAA/sIiSP3rASIi/QwAAEBLAABASwAAQEsAAEBLIkn95AEiI0EX/asB/QwAAIA/AAAAAAAAAAAAAAAA/a4B/R8AICL9HwAgI/0fAEMAAEDLkpMiVyBXIFcgVyBXIFcgV0P+5X83lEOJhCE5kpRD/8OuOpKUQ1uVHTySlENHWGM9kpRD8P11PpKUQxhyMT+SlEMAAIA/kpQhVwJAAkAgRkUNAP0MAAAAAAAAAAAAAAAAAAAAACEjDAELIFn9EyFK/QwAAAAAAAAAAAAAAAAAAAAAISNBACEbA0AgCSAJ/QAAACBK/eUBIEj96wEiIiAiIEn95AEiR/0MAABAywAAQMsAAEDLAABAy/3kAf3lASIiICIgIiAiICIgIiAi/Qz+5X83/uV/N/7lfzf+5X83/eYB/QyJhCE5iYQhOYmEITmJhCE5/eQB/eYB/Qz/w646/8OuOv/Drjr/w646/eQB/eYB/QxblR08W5UdPFuVHTxblR08/eQB/eYB/QxHWGM9R1hjPUdYYz1HWGM9/eQB/eYB/Qzw/XU+8P11PvD9dT7w/XU+/eQB/eYB/QwYcjE/GHIxPxhyMT8YcjE//eQB/eYB/QwAAIA/AACAPwAAgD8AAIA//eQBIEdBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mASIi/QsAACAjICL95AEhIyAJQRBqIQkgG0EEaiIbIARIDQALCyAgICAqAgAgV5QgI/0fAyAj/R8CICP9HwAgI/0fAZKSkpI4AgAgHCBYOAIAIBIgIWogVzgCACBUIBhqIVQgDkEBaiIOQQRHDQALAkAgB0EBSA0AIBL9CQIMIVwgEv0JAgghXSAS/QkCBCFeIBL9CQIAIV8CQCAEQQBKDQBBACEgIEEhCQNAIAkgL2oiG0EQaiIZ/QAAACEiIBtBIGoiIf0AAAAhIyAJIC1qIhtBEGoiHP0AAAAhRyAbQSBqIh39AAAAIUggCSAfaiIbQRBqIh79AAAAIUkgG0EgaiIL/QAAACFKIAlBIGoiGyBfIBv9AAAA/eYB/QsAACAJQRBqIgkgXyAJ/QAAAP3mAf0LAAAgCyBeIEr95gH9CwAAIB4gXiBJ/eYB/QsAACAdIF0gSP3mAf0LAAAgHCBdIEf95gH9CwAAICEgXCAj/eYB/QsAACAZIFwgIv3mAf0LAAAgGyEJICBBCGoiICAHSA0ADAILCyATIEUgB2xBAnRqIg0gN2ohDiANIDhqIQ8gDSAfaiEQQQAhHiA/IQsDQCBcIA4gHkECdCIJaiIZ/QAAEP3mASFHIFwgGf0AAAD95gEhSCBdIA8gCWoiIf0AABD95gEhSSBdICH9AAAA/eYBIUogXiAQIAlqIhz9AAAQ/eYBIUsgXiAc/QAAAP3mASFMIF8gDSAJaiId/QAAEP3mASFNIF8gHf0AAAD95gEhTiALIRsgAyEJIAQhIANAIEcgG0EQav0AAAAiIiAJIBpq/QkAACJP/eYB/eQBIUcgSSAiIAkgBmr9CQAAIlD95gH95AEhSSBLICIgCSAYav0JAAAiUf3mAf3kASFLIE4gG/0AAAAiIyAJ/QkAACJg/eYB/eQBIU4gSCAjIE/95gH95AEhSCBKICMgUP3mAf3kASFKIEwgIyBR/eYB/eQBIUwgTSAiIGD95gH95AEhTSAbIB9qIRsgCUEEaiEJICBBf2oiIA0ACyAdIE39CwAQIB0gTv0LAAAgHCBL/QsAECAcIEz9CwAAICEgSf0LABAgISBK/QsAACAZIEf9CwAQIBkgSP0LAAAgC0EgaiELIB5BCGoiHiAHSA0ACwsgQSAuaiFBIEJBBGohQiBDQQRqIUMgOkEEaiE6IEBBBGohQCBEQQFqIkQgLEcNAAsgOUEBaiI5IAEoAhBIDQALCwJAIAhBAUgNACAAKAIgIh4gASgCFCIcQQN0aiEEQQAhHQJAIAdBAEoNAAJAIAhBBEkNACAIIBhqQQJ0IANqIBQgB0EEdEEQamxqQRBqIARLIBcgHiAIIBxqQQN0aiIJSXENACAEIAggFWogGGpBAnQgA2pBEGpJIBYgCUlxDQD9DAAAAAABAAAAAgAAAAMAAAAhSSAIQXxxIh0hICAWIQkgFyEbA0AgBCBJQQH9qwEiIv0bAEECdGogCf0AAgAiI/0fADgCACAEICL9DAEAAAABAAAAAQAAAAEAAAD9UCJH/RsAQQJ0aiAb/QACACJI/R8AOAIAIAQgIv0bAUECdGogI/0fATgCACAEIEf9GwFBAnRqIEj9HwE4AgAgBCAi/RsCQQJ0aiAj/R8COAIAIAQgR/0bAkECdGogSP0fAjgCACAEICL9GwNBAnRqICP9HwM4AgAgBCBH/RsDQQJ0aiBI/R8DOAIAIAlBEGohCSAbQRBqIRsgSf0MBAAAAAQAAAAEAAAABAAAAP2uASFJICBBfGoiIA0ACyAIIB1GDQILIB1BAXIhCQJAIAhBAXFFDQAgBCAdQQN0aiIbIBYgHUECdCIgaioCADgCACAbQQRqIBcgIGoqAgA4AgAgCSEdCyAIIAlGDQEgAyAYQQJ0aiAUIAdBBHRBEGpsaiEbIB1BAnQhGSAIIB1rISEgAyAVIBhqQQJ0aiEgIB4gHUEBdCAcQQF0akECdGohCQNAIAkgICAZaiIcQRBqKgIAOAIAIAlBBGogGyAZaiIAQRBqKgIAOAIAIAlBCGogHEEUaioCADgCACAJQQxqIABBFGoqAgA4AgAgIEEIaiEgIBtBCGohGyAJQRBqIQkgIUF+aiIhDQAMAgsLIAAoAhwiDSAcIAdsIg5BAnRqIQAgB0ECdCELIAdBA3EhGiAHQXxxIRAgDSAOQQJ0aiEGIAcgGGpBBGohDyADIBhBBGoiVUECdGohBSAHIBxBAnRBBGpsIVQgB0F8aiJGQQJ2QQFqIglB/P///wdxIVIgCUEDcSFWQQAhGEEAIR1BACEcA0BDAACAPyAXIBxBAnQiHmoiHyoCACJXlUMAAAAAIFdDAAAAAF4bIVdBACEgAkACQCAHQQRJDQACQCANIA4gByAcbCIJakECdGogAyAPIAlqQQJ0ak8NAEEAISAgDSAJQQJ0aiBUaiADIFUgCWpBAnRqSw0BCyBX/RMhIkEAIRkCQCBGQQxJDQBBACEZIB0hCSBSISEDQCAAIAlqIhsgIiASIAlqIiBBEGr9AAIA/eYB/QsCACAbQRBqICIgIEEgav0AAgD95gH9CwIAIBtBIGogIiAgQTBq/QACAP3mAf0LAgAgG0EwaiAiICBBwABq/QACAP3mAf0LAgAgCUHAAGohCSAZQRBqIRkgIUF8aiIhDQALCwJAIFZFDQAgBSAZIBhqQQJ0IhtqIQkgBiAbaiEbIFYhIANAIBsgIiAJ/QACAP3mAf0LAgAgCUEQaiEJIBtBEGohGyAgQX9qIiANAAsLIBAhICAHIBBGDQELIAcgIEF/c2ohIQJAIBpFDQAgBSAgIBhqQQJ0IhtqIQkgBiAbaiEbIBohGQNAIBsgVyAJKgIAlDgCACAJQQRqIQkgG0EEaiEbICBBAWohICAZQX9qIhkNAAsLICFBA0kNACAHICBrIRkgBiAgIBhqQQJ0IhtqIQkgBSAbaiEbA0AgCSBXIBsqAgCUOAIAIAlBBGogVyAbQQRqKgIAlDgCACAJQQhqIFcgG0EIaioCAJQ4AgAgCUEMaiBXIBtBDGoqAgCUOAIAIAlBEGohCSAbQRBqIRsgGUF8aiIZDQALCyAEIBxBA3RqIgkgFiAeaioCADgCACAJQQRqIB8qAgA4AgAgGCAHaiEYIB0gC2ohHSAcQQFqIhwgCEcNAAsLC08BAn9BACEHAkAgBf4QAgANAEEAIQcDQCAEQQH+HgIAIgggA04NASAAIAEgCEEFdGogAiAGEIKAgIAAIAdBAWohByAF/hACAEUNAAsLIAcLlgQBDXsCQCAAQQFODQD9DJqZ+UCamflAmpn5QJqZ+UD9HwAPC/0MzcxMPs3MTD7NzEw+zcxMPiEB/QyamZk+mpmZPpqZmT6amZk+IQL9DM3MzD7NzMw+zczMPs3MzD4hA/0MAAAAPwAAAD8AAAA/AAAAPyEE/QyamRk/mpkZP5qZGT+amRk/IQX9DDMzMz8zMzM/MzMzPzMzMz8hBv0MzcxMP83MTD/NzEw/zcxMPyEH/QxmZmY/ZmZmP2ZmZj9mZmY/IQj9DM3MjD/NzIw/zcyMP83MjD8hCf0MmpmZP5qZmT+amZk/mpmZPyEK/QzNzMw9zczMPc3MzD3NzMw9IQsDQCAK/Qx3vn8/d75/P3e+fz93vn8/Igz95gH9DG8SgzpvEoM6bxKDOm8SgzoiDf3kASEKIAkgDP3mASAN/eQBIQkgCCAM/eYBIA395AEhCCAHIAz95gEgDf3kASEHIAYgDP3mASAN/eQBIQYgBSAM/eYBIA395AEhBSAEIAz95gEgDf3kASEEIAMgDP3mASAN/eQBIQMgAiAM/eYBIA395AEhAiABIAz95gEgDf3kASEBIAsgDP3mASAN/eQBIQsgAEF/aiIADQALIAj9DAAAgD8AAIA/AACAPwAAgD/95AEgCSAK/eQB/eQBIAQgBf3kASAGIAf95AH95AEgAiAD/eQBIAEgC/3kAf3kAf3kAf3kAf0fAAsFAEHgAAs=";

// src/kernels/wasm/attention.ts
var POS_INF = 1073741823;
var LOG2E = Math.LOG2E;
var CONFIG_INTS = 20;
var JOB_INTS = 8;
var TICK_MS = 50;
var kernelStats = { calls: 0, tilesComputed: 0, tilesTotal: 0, prepMs: 0, kernelMs: 0 };
var configuredThreads;
var kernel;
var queue = Promise.resolve();
function decode(b64) {
  if (typeof Buffer !== "undefined") return Uint8Array.from(Buffer.from(b64, "base64"));
  const s2 = atob(b64);
  const out = new Uint8Array(s2.length);
  for (let i = 0; i < s2.length; i++) out[i] = s2.charCodeAt(i);
  return out;
}
var unavailable;
function wasmKernelUnavailable() {
  if (kernel || unavailable) return unavailable;
  try {
    loadKernel();
  } catch (err) {
    unavailable = `the fused wasm attention kernel cannot start: ${err.message}`;
  }
  return unavailable;
}
function loadKernel() {
  if (kernel) return kernel;
  if (typeof SharedArrayBuffer === "undefined") throw new Error("it needs SharedArrayBuffer (a cross-origin isolated page)");
  const module = new WebAssembly.Module(decode(attentionWasmBase64));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const exports = inst.exports;
  const heapBase = Number(exports.__heap_base.value) + 63 & ~63;
  kernel = { module, memory, exports, heapBase };
  return kernel;
}
var Arena = class {
  constructor(k) {
    this.k = k;
    this.top = k.heapBase;
  }
  k;
  top;
  alloc(bytes) {
    const at = this.top;
    this.top = at + bytes + 63 & ~63;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need <= 0) return at;
    try {
      this.k.memory.grow(Math.ceil(need / 65536));
    } catch {
      throw new Error(`fused wasm attention needs ${(this.top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB): use fewer heads or a shorter sequence per node`);
    }
    return at;
  }
  get used() {
    return this.top - this.k.heapBase;
  }
  f32(at, n) {
    return new Float32Array(this.k.memory.buffer, at, n);
  }
  i32(at, n) {
    return new Int32Array(this.k.memory.buffer, at, n);
  }
};
var WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let ex;
parentPort.on('message', (m) => {
  if (m.type === 'init') {
    ex = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
    parentPort.postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    let done = 0, error;
    try { done = ex.run_queue(m.cfg, m.jobs, m.tiles, m.n, m.counter, m.cancel, m.scratch); } catch (e) { error = String(e && e.message || e); }
    parentPort.postMessage({ type: 'done', done, error });
  }
});
`;
var isNode = typeof process !== "undefined" && !!process.versions?.node;
async function nodeCores() {
  if (!isNode) return 1;
  const spec = "node:os";
  const os = await import(
    /* @vite-ignore */
    spec
  );
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
async function kernelThreads(requested) {
  const env2 = isNode ? Number(process.env.CTXLAB_WASM_THREADS) || void 0 : void 0;
  const n = requested ?? configuredThreads ?? env2 ?? await nodeCores();
  return isNode ? Math.max(1, Math.floor(n)) : 1;
}
async function ensurePool(k, n) {
  if (k.pool && k.pool.workers.length >= n) return k.pool;
  const spec = "node:worker_threads";
  const { Worker } = await import(
    /* @vite-ignore */
    spec
  );
  const workers = k.pool?.workers ?? [];
  while (workers.length < n) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    await new Promise((resolve, reject) => {
      w.once("message", () => resolve());
      w.once("error", reject);
      w.postMessage({ type: "init", module: k.module, memory: k.memory });
    });
    w.unref();
    workers.push(w);
  }
  k.pool = { workers };
  return k.pool;
}
function range(a, lo, hi) {
  let mn = POS_INF;
  let mx = -1;
  for (let x = lo; x < hi; x++) {
    const v = a[x];
    if (v < 0) continue;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}
function minMax(a, lo, hi) {
  let mn = Infinity;
  let mx = -Infinity;
  for (let x = lo; x < hi; x++) {
    const v = a[x];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}
var SKIP = -1;
var FULL = 0;
var PARTIAL = 1;
function fusedAttention(spec, opts2 = {}) {
  const run4 = queue.then(() => runLocked(spec, opts2));
  queue = run4.catch(() => void 0);
  return run4;
}
async function runLocked(spec, opts2) {
  const k = loadKernel();
  const t0 = performance.now();
  const { H, Hkv, Tq, Tk, D, Dv } = spec;
  if (H % Hkv !== 0) throw new Error(`fused attention: ${Hkv} kv heads do not divide ${H} heads`);
  const Bq = spec.blockQ ?? 64;
  const Bk = spec.blockK ?? 64;
  if (Bk % 8 !== 0 || Bk < 8) throw new Error(`fused attention: keys per tile must be a multiple of 8, got ${Bk}`);
  const DvP = Math.ceil(Dv / 8) * 8;
  const nT = Math.max(1, Math.ceil(Tk / Bk));
  const TkP = nT * Bk;
  const bands = spec.bands ?? [];
  const intervals = spec.intervals ?? [];
  const rank1 = spec.rank1 ?? [];
  const qpos = spec.qpos ?? Int32Array.from({ length: Tq }, (_, r) => Tk - Tq + r);
  const kposIn = spec.kpos ?? Int32Array.from({ length: Tk }, (_, j) => j);
  const blocks = spec.queryBlocks ?? Array.from({ length: Math.ceil(Tq / Bq) }, (_, b) => ({ r0: b * Bq, rows: Math.min(Bq, Tq - b * Bq) }));
  const splits = Math.max(1, spec.splits ?? 1);
  const threads = await kernelThreads(opts2.threads);
  const tickMs = opts2.tickMs ?? TICK_MS;
  const kposP = new Int32Array(TkP).fill(-1);
  kposP.set(kposIn);
  const tileK = Array.from({ length: nT }, (_, t) => range(kposP, t * Bk, (t + 1) * Bk));
  const padded = (t) => (t + 1) * Bk > Tk;
  const ivTile = intervals.map((iv) => Array.from({ length: nT }, (_, t) => ({ ka: minMax(iv.ka, t * Bk, Math.min(Tk, (t + 1) * Bk)), kb: minMax(iv.kb, t * Bk, Math.min(Tk, (t + 1) * Bk)) })));
  function classify(qr, ivq, t) {
    const [kmin, kmax] = tileK[t];
    if (kmax < 0) return SKIP;
    const [qmin, qmax] = qr;
    let full = !padded(t) && rank1.length === 0;
    for (const b of bands) {
      const none2 = kmin >= b.gcol && qmin >= b.grow && (qmin - kmax > b.lo || kmin - qmax > b.hi);
      if (none2) return SKIP;
      const all = kmax < b.gcol || qmax < b.grow || qmax - kmin <= b.lo && kmax - qmin <= b.hi;
      if (!all) full = false;
    }
    for (let x2 = 0; x2 < intervals.length; x2++) {
      const { ka, kb } = ivTile[x2][t];
      const { qa, qb } = ivq[x2];
      if (kb[1] < qa[0] || qb[1] < ka[0]) return SKIP;
      if (!(Math.max(qa[1], ka[1]) <= Math.min(qb[0], kb[0]))) full = false;
    }
    return full ? FULL : PARTIAL;
  }
  const jobList = [];
  const direct = splits === 1;
  let outRows = direct ? H * Tq : 0;
  const splitRows = [];
  let computed = 0;
  for (const { r0, rows } of blocks) {
    const qr = range(qpos, r0, r0 + rows);
    const ivq = intervals.map((iv) => ({ qa: minMax(iv.qa, r0, r0 + rows), qb: minMax(iv.qb, r0, r0 + rows) }));
    let shared;
    for (let h = 0; h < H; h++) {
      let codes = shared;
      if (!codes) {
        codes = [];
        for (const t of spec.tilesOf ? spec.tilesOf(h, r0, rows) : Array.from({ length: nT }, (_, t2) => t2)) {
          const c2 = classify(qr, ivq, t);
          if (c2 !== SKIP) codes.push(t * 2 + c2);
        }
        if (!spec.tilesOf) shared = codes;
      }
      computed += codes.length;
      if (direct) {
        jobList.push({ h, r0, rows, codes, out0: h * Tq + r0 });
        continue;
      }
      const parts = [];
      const per = Math.ceil(codes.length / splits);
      for (let s2 = 0; s2 < Math.max(1, Math.ceil(codes.length / Math.max(1, per))); s2++) {
        jobList.push({ h, r0, rows, codes: codes.slice(s2 * per, (s2 + 1) * per), out0: outRows });
        parts.push(outRows);
        outRows += rows;
      }
      splitRows.push({ h, r0, rows, parts });
    }
  }
  jobList.sort((a, b) => b.codes.length - a.codes.length);
  const nTiles = jobList.reduce((n2, j) => n2 + j.codes.length, 0);
  const arena = new Arena(k);
  const maxRows = Math.max(4, ...blocks.map((b) => Math.ceil(b.rows / 4) * 4));
  const scratchFloats = Math.ceil((4 * Bk + 4 + maxRows * DvP + 2 * maxRows) / 16) * 16;
  const pQ = arena.alloc(H * Tq * D * 4);
  const pKt = arena.alloc(Hkv * nT * D * Bk * 4);
  const pV = arena.alloc(Hkv * TkP * DvP * 4);
  const pO = arena.alloc(outRows * DvP * 4);
  const pML = arena.alloc(outRows * 2 * 4);
  const pQpos = arena.alloc(Tq * 4);
  const pKpos = arena.alloc(TkP * 4);
  const pSlopes = spec.slopes ? arena.alloc(H * 4) : 0;
  const pBand = arena.alloc(Math.max(1, bands.length) * 16);
  const pIv = arena.alloc(Math.max(1, intervals.length) * 16);
  const ivArrays = intervals.map((iv) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(Tq * 4), arena.alloc(TkP * 4), arena.alloc(TkP * 4)];
    arena.i32(at[0], Tq).set(iv.qa);
    arena.i32(at[1], Tq).set(iv.qb);
    arena.i32(at[2], TkP).set(iv.ka);
    arena.i32(at[3], TkP).set(iv.kb);
    return at;
  });
  const pR1 = arena.alloc(Math.max(1, rank1.length) * 8);
  const r1Arrays = rank1.map((r) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(TkP * 4)];
    arena.f32(at[0], Tq).set(r.qw);
    const kw = arena.f32(at[1], TkP);
    for (let j = 0; j < Tk; j++) kw[j] = r.kw[j] * LOG2E;
    return at;
  });
  const pCfg = arena.alloc(CONFIG_INTS * 4);
  const pJobs = arena.alloc(jobList.length * JOB_INTS * 4);
  const pTiles = arena.alloc(Math.max(1, nTiles) * 4);
  const pSync = arena.alloc(8);
  const pScratch = arena.alloc(Math.max(1, threads) * scratchFloats * 4);
  const c = LOG2E * spec.scale;
  const Q = arena.f32(pQ, H * Tq * D);
  for (let x2 = 0; x2 < Q.length; x2++) Q[x2] = spec.q[x2] * c;
  const Kt = arena.f32(pKt, Hkv * nT * D * Bk);
  Kt.fill(0);
  for (let g = 0; g < Hkv; g++)
    for (let j = 0; j < Tk; j++) {
      const t = Math.floor(j / Bk);
      const base = (g * nT + t) * D * Bk + (j - t * Bk);
      const src = (g * Tk + j) * D;
      for (let d = 0; d < D; d++) Kt[base + d * Bk] = spec.k[src + d];
    }
  const V = arena.f32(pV, Hkv * TkP * DvP);
  V.fill(0);
  for (let g = 0; g < Hkv; g++)
    for (let j = 0; j < Tk; j++) V.set(spec.v.subarray((g * Tk + j) * Dv, (g * Tk + j + 1) * Dv), (g * TkP + j) * DvP);
  arena.i32(pQpos, Tq).set(qpos);
  arena.i32(pKpos, TkP).set(kposP);
  if (spec.slopes) {
    const sl = arena.f32(pSlopes, H);
    for (let h = 0; h < H; h++) sl[h] = Number(spec.slopes[h]) * LOG2E;
  }
  const bandI = arena.i32(pBand, bands.length * 4);
  bands.forEach((b, x2) => bandI.set([b.gcol, b.grow, Math.min(b.lo, POS_INF), Math.min(b.hi, POS_INF)].map((n2) => Math.max(-POS_INF, Math.min(POS_INF, n2))), x2 * 4));
  const ivI = arena.i32(pIv, intervals.length * 4);
  ivArrays.forEach((at, x2) => ivI.set(at, x2 * 4));
  const r1I = arena.i32(pR1, rank1.length * 2);
  r1Arrays.forEach((at, x2) => r1I.set(at, x2 * 2));
  arena.i32(pCfg, CONFIG_INTS).set([D, DvP, Bk, nT, pQ, pKt, pV, pO, pML, Tq, pQpos, pKpos, pSlopes, bands.length, pBand, intervals.length, pIv, rank1.length, pR1, H / Hkv]);
  const jobsI = arena.i32(pJobs, jobList.length * JOB_INTS);
  const tilesI = arena.i32(pTiles, Math.max(1, nTiles));
  let tile0 = 0;
  jobList.forEach((j, x2) => {
    jobsI.set([j.h, j.r0, j.rows, tile0, j.codes.length, j.out0, 0, 0], x2 * JOB_INTS);
    tilesI.set(j.codes, tile0);
    tile0 += j.codes.length;
  });
  const sync = arena.i32(pSync, 2);
  sync.fill(0);
  const t1 = performance.now();
  const n = jobList.length;
  const x = k.exports;
  if (threads <= 1 || n <= 1) {
    let last = performance.now();
    for (let j = 0; j < n; j++) {
      x.run_range(pCfg, pJobs, pTiles, j, j + 1, pScratch);
      const now = performance.now();
      if (now - last >= tickMs && opts2.tick) {
        last = now;
        opts2.tick((j + 1) / n);
      }
    }
  } else {
    const pool = await ensurePool(k, threads);
    const used = pool.workers.slice(0, Math.min(threads, n));
    for (const w of used) w.ref();
    const done = used.map(
      (w, i) => new Promise((resolve, reject) => {
        w.once("message", (m) => m.error ? reject(new Error(`fused attention worker: ${m.error}`)) : resolve());
        w.postMessage({ type: "run", cfg: pCfg, jobs: pJobs, tiles: pTiles, n, counter: pSync, cancel: pSync + 4, scratch: pScratch + i * scratchFloats * 4 });
      })
    );
    const all = Promise.all(done);
    let finished = false;
    void all.then(() => finished = true, () => finished = true);
    try {
      while (!finished) {
        opts2.tick?.(Math.min(1, Atomics.load(arena.i32(pSync, 1), 0) / n));
        await Promise.race([all, new Promise((r) => setTimeout(r, tickMs))]);
      }
      await all;
    } catch (err) {
      Atomics.store(arena.i32(pSync + 4, 1), 0, 1);
      await all.catch(() => void 0);
      throw err;
    } finally {
      for (const w of used) w.unref();
    }
  }
  const kernelMs = performance.now() - t1;
  const O = arena.f32(pO, outRows * DvP);
  const ML = arena.f32(pML, outRows * 2);
  const out = new Float32Array(H * Tq * Dv);
  const lse = new Float32Array(H * Tq);
  const lse2 = (row) => ML[row * 2 + 1] > 0 ? ML[row * 2] + Math.log2(ML[row * 2 + 1]) : -Infinity;
  if (direct) {
    for (let row = 0; row < H * Tq; row++) {
      out.set(O.subarray(row * DvP, row * DvP + Dv), row * Dv);
      lse[row] = lse2(row) / LOG2E;
    }
  } else {
    for (const { h, r0, rows, parts } of splitRows)
      for (let r = 0; r < rows; r++) {
        const ls = parts.map((p) => lse2(p + r));
        const M = Math.max(...ls);
        const dst = (h * Tq + r0 + r) * Dv;
        lse[h * Tq + r0 + r] = M === -Infinity ? -Infinity : (M + Math.log2(ls.reduce((s2, l) => s2 + 2 ** (l - M), 0))) / LOG2E;
        if (M === -Infinity) continue;
        let wsum = 0;
        parts.forEach((p, s2) => {
          const w = 2 ** (ls[s2] - M);
          wsum += w;
          for (let e = 0; e < Dv; e++) out[dst + e] += w * O[(p + r) * DvP + e];
        });
        for (let e = 0; e < Dv; e++) out[dst + e] /= wsum;
      }
  }
  kernelStats.calls++;
  kernelStats.tilesComputed += computed;
  kernelStats.tilesTotal += H * blocks.length * nT;
  kernelStats.prepMs += t1 - t0;
  kernelStats.kernelMs += kernelMs;
  return { out, lse, tilesComputed: computed, tilesTotal: H * blocks.length * nT, bytes: arena.used, prepMs: t1 - t0, kernelMs };
}

// src/nodes/attention/fused.ts
var causalBand = { gcol: 0, grow: 0, lo: POS_INF, hi: 0 };
function windowBand(window, causal, globalTokens = 0) {
  const half = Math.floor(window / 2);
  return causal ? { gcol: globalTokens, grow: globalTokens, lo: window - 1, hi: 0 } : { gcol: globalTokens, grow: globalTokens, lo: half, hi: half };
}
function biasRules(bias, H, qpos, kpos, head0 = 0) {
  const bands = [];
  const intervals = [];
  const rank1 = [];
  let slopes;
  for (const t of bias?.terms ?? []) {
    if (t.type === "alibi") {
      slopes ??= new Float64Array(H);
      for (let h = 0; h < H; h++) slopes[h] += t.slopes[(head0 + h) % t.slopes.length];
    } else if (t.type === "streaming") {
      bands.push({ gcol: t.sinkTokens, grow: 0, lo: t.recentTokens - 1, hi: 0 });
    } else if (t.type === "windows") {
      const stride = t.windowSize - t.overlap;
      const first = (x) => x < t.windowSize ? 0 : Math.floor((x - t.windowSize) / stride) + 1;
      const last = (x) => Math.floor(x / stride);
      intervals.push({ qa: qpos.map(first), qb: qpos.map(last), ka: kpos.map(first), kb: kpos.map(last) });
    } else {
      const seg = t.segment;
      const all = new Set(t.seeAll);
      const sees = (x) => all.has(seg[x]);
      intervals.push({
        qa: qpos.map((i) => sees(i) ? -POS_INF : seg[i]),
        qb: qpos.map((i) => sees(i) ? POS_INF : seg[i]),
        ka: kpos.map((j) => seg[j]),
        kb: kpos.map((j) => seg[j])
      });
      const cross = t.crossLogit ?? 0;
      if (cross !== 0) rank1.push({ qw: Float32Array.from(qpos, (i) => sees(i) ? 1 : 0), kw: Float32Array.from(kpos, (j) => sees(j) ? 0 : cross) });
    }
  }
  return { bands, intervals, rank1, slopes };
}
var fusedAvailable = (ctx) => ctx.backend === "wasm" && !wasmKernelUnavailable();
async function kernelCall(ctx, c) {
  const { s: s2, p } = c;
  const qpos = c.qpos ?? Int32Array.from({ length: s2.Tq }, (_, r2) => s2.Tk - s2.Tq + r2);
  const kpos = c.kpos ?? Int32Array.from({ length: s2.Tk }, (_, j) => j);
  const rules = biasRules(c.bias, s2.H, qpos, kpos, c.head0);
  ctx.checkCancelled();
  const r = await fusedAttention(
    {
      q: c.q,
      k: c.k,
      v: c.v,
      ...s2,
      scale: scaleOf(p, s2.D),
      qpos,
      kpos,
      bands: [...p.causal ? [causalBand] : [], ...c.bands ?? [], ...rules.bands],
      intervals: [...c.intervals ?? [], ...rules.intervals],
      rank1: rules.rank1,
      slopes: rules.slopes,
      blockQ: c.blockQ,
      blockK: c.blockK,
      queryBlocks: c.queryBlocks,
      tilesOf: c.tilesOf,
      splits: c.splits
    },
    {
      tick: (f) => {
        ctx.checkCancelled();
        ctx.progress(f);
      }
    }
  );
  ctx.track(r.bytes);
  ctx.release(r.bytes);
  return r;
}
async function runFused(ctx, ins, p, s2, o = {}) {
  if (!fusedAvailable(ctx)) return void 0;
  const k = o.k ?? ins.k;
  const v = o.v ?? ins.v;
  const r = await kernelCall(ctx, { ...o, q: ins.q.data, k: k.data, v: v.data, s: s2, p, bias: ins.bias });
  return f32([s2.H, s2.Tq, s2.Dv], r.out, ["H", "T", "D"]);
}

// src/engine/bias.ts
function headBias(bias, head) {
  const terms = bias?.terms ?? [];
  const masks = [];
  const adds = [];
  for (const t of terms) {
    if (t.type === "alibi") {
      const m = t.slopes[head % t.slopes.length];
      adds.push((i, j) => -m * (i - j));
    } else if (t.type === "streaming") {
      const { sinkTokens, recentTokens } = t;
      masks.push((i, j) => j < sinkTokens || j <= i && i - j < recentTokens);
    } else if (t.type === "windows") {
      const { windowSize, overlap } = t;
      const stride = windowSize - overlap;
      const first = (x) => x < windowSize ? 0 : Math.floor((x - windowSize) / stride) + 1;
      const last = (x) => Math.floor(x / stride);
      masks.push((i, j) => Math.max(first(i), first(j)) <= Math.min(last(i), last(j)));
    } else {
      const seg = t.segment;
      const seeAll = new Set(t.seeAll);
      masks.push((i, j) => seg[i] === seg[j] || seeAll.has(seg[i]));
      const cross = t.crossLogit ?? 0;
      if (cross !== 0) adds.push((i, j) => seeAll.has(seg[i]) && !seeAll.has(seg[j]) ? cross : 0);
    }
  }
  return {
    unmasked: masks.length === 0,
    additiveFree: adds.length === 0,
    allowed: masks.length === 0 ? () => true : (i, j) => masks.every((m) => m(i, j)),
    add: adds.length === 0 ? () => 0 : (i, j) => adds.reduce((s2, a) => s2 + a(i, j), 0)
  };
}
function fillBiasTile(hb, causal, row0, rows, col0, cols, out) {
  let any = false;
  for (let r = 0; r < rows; r++) {
    const i = row0 + r;
    for (let c = 0; c < cols; c++) {
      const j = col0 + c;
      const ok = (!causal || j <= i) && hb.allowed(i, j);
      out[r * cols + c] = ok ? hb.add(i, j) : -Infinity;
      any ||= ok;
    }
  }
  return any;
}

// src/nodes/attention/sparse.ts
var densePattern = (Tk) => ({ keyRanges: () => [[0, Tk]], logWeight: () => 0, fullyVisible: () => true });
function unmaskedTile(pattern2, hasBias, causal, h, i0, rows, cols) {
  return !hasBias && (!causal || cols[cols.length - 1] <= i0) && (pattern2.fullyVisible?.(h, i0, i0 + rows, cols) ?? false);
}
function mergeRanges(ranges, lo, hi) {
  const rs = ranges.map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
function fillPatternTile(hb, causal, pattern2, h, i0, rows, cols, out) {
  let any = false;
  const n = cols.length;
  for (let r = 0; r < rows; r++) {
    const i = i0 + r;
    for (let c = 0; c < n; c++) {
      const j = cols[c];
      let w = -Infinity;
      if ((!causal || j <= i) && hb.allowed(i, j)) {
        const lw = pattern2.logWeight(h, i, j);
        if (lw !== -Infinity) w = lw + hb.add(i, j);
      }
      out[r * n + c] = w;
      any ||= w !== -Infinity;
    }
  }
  return any;
}
function* queryBlocks(s2, B) {
  const off = s2.Tk - s2.Tq;
  for (let i0 = off; i0 < s2.Tk; ) {
    const i1 = Math.min(s2.Tk, (Math.floor(i0 / B) + 1) * B);
    yield { r0: i0 - off, rows: i1 - i0, i0 };
    i0 = i1;
  }
}
function keyChunks(pattern2, h, i0, i1, causal, Tk, maxCols) {
  const ranges = mergeRanges(pattern2.keyRanges(h, i0, i1), 0, causal ? Math.min(Tk, i1) : Tk);
  const total = ranges.reduce((n2, [a, b]) => n2 + b - a, 0);
  const cols = new Int32Array(total);
  let n = 0;
  for (const [a, b] of ranges) for (let j = a; j < b; j++) cols[n++] = j;
  const chunks = [];
  for (let c = 0; c < total; c += maxCols) chunks.push(cols.subarray(c, Math.min(total, c + maxCols)));
  return chunks;
}
function takeRows(tf3, x, cols) {
  const n = cols.length;
  if (cols[n - 1] - cols[0] + 1 === n) return tf3.slice(x, [cols[0], 0], [n, x.shape[1]]);
  return tf3.gather(x, tf3.tensor1d(cols, "int32"));
}
function sparsePairs(s2, pattern2, causal, B, heads2 = s2.H) {
  let pairs = 0;
  for (let h = 0; h < heads2; h++)
    for (const { rows, i0 } of queryBlocks(s2, B)) {
      const ranges = mergeRanges(pattern2.keyRanges(h, i0, i0 + rows), 0, causal ? Math.min(s2.Tk, i0 + rows) : s2.Tk);
      pairs += rows * ranges.reduce((n, [a, b]) => n + b - a, 0);
    }
  return pairs;
}
async function blockSparseAttention(ctx, { q, k, v, bias }, p, s2, pattern2, opts2) {
  const { tf: tf3 } = ctx;
  const scale = scaleOf(p, s2.D);
  const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
  const tileBuf = new Float32Array(opts2.queryBlock * opts2.keyChunk);
  ctx.track(tileBuf.byteLength);
  const blocks = [...queryBlocks(s2, opts2.queryBlock)];
  const hasBias = (bias?.terms.length ?? 0) > 0;
  let kh;
  let vh;
  let loaded = -1;
  try {
    for (let h = 0; h < s2.H; h++) {
      const g = groupOf(h, s2);
      if (g !== loaded) {
        tf3.dispose([kh, vh].filter(Boolean));
        kh = tf3.tensor2d(headView(k, g), [s2.Tk, s2.D]);
        vh = tf3.tensor2d(headView(v, g), [s2.Tk, s2.Dv]);
        loaded = g;
      }
      const hb = headBias(bias, h);
      const qh = tf3.tidy(() => tf3.mul(tf3.tensor2d(headView(q, h), [s2.Tq, s2.D]), scale));
      const parts = [];
      for (const { r0, rows, i0 } of blocks) {
        const qt = tf3.slice(qh, [r0, 0], [rows, s2.D]);
        let m = tf3.fill([rows, 1], -1e30);
        let l = tf3.zeros([rows, 1]);
        let acc = tf3.zeros([rows, s2.Dv]);
        for (const cols of keyChunks(pattern2, h, i0, i0 + rows, p.causal, s2.Tk, opts2.keyChunk)) {
          ctx.checkCancelled();
          const view = tileBuf.subarray(0, rows * cols.length);
          const plain = unmaskedTile(pattern2, hasBias, p.causal, h, i0, rows, cols);
          if (!plain && !fillPatternTile(hb, p.causal, pattern2, h, i0, rows, cols, view)) continue;
          const next = tf3.tidy(() => {
            let sc = tf3.matMul(qt, takeRows(tf3, kh, cols), false, true);
            if (!plain) sc = tf3.add(sc, tf3.tensor2d(view, [rows, cols.length]));
            const mNew = tf3.maximum(m, tf3.max(sc, 1, true));
            const pr = tf3.exp(tf3.sub(sc, mNew));
            const corr = tf3.exp(tf3.sub(m, mNew));
            return [mNew, tf3.add(tf3.mul(l, corr), tf3.sum(pr, 1, true)), tf3.add(tf3.mul(acc, corr), tf3.matMul(pr, takeRows(tf3, vh, cols)))];
          });
          tf3.dispose([m, l, acc]);
          [m, l, acc] = next;
        }
        parts.push(tf3.tidy(() => tf3.divNoNan(acc, l)));
        tf3.dispose([m, l, acc, qt]);
      }
      const o = parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
      out.set(await o.data(), h * s2.Tq * s2.Dv);
      tf3.dispose([o, ...parts]);
      qh.dispose();
      ctx.progress((h + 1) / s2.H);
    }
  } finally {
    tf3.dispose([kh, vh].filter(Boolean));
    ctx.release(tileBuf.byteLength);
  }
  return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
}
function patternRowScores(q, k, s2, h, g, r, scale, hb, pattern2, causal, out) {
  const { Tq, Tk, D } = s2;
  const i = Tk - Tq + r;
  let max = -Infinity;
  let visible = 0;
  for (let j = 0; j < Tk; j++) {
    const lw = causal && j > i || !hb.allowed(i, j) ? -Infinity : pattern2.logWeight(h, i, j);
    if (lw === -Infinity) {
      out[j] = -Infinity;
      continue;
    }
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d] * k.data[(g * Tk + j) * D + d];
    out[j] = dot * scale + hb.add(i, j) + lw;
    max = Math.max(max, out[j]);
    visible++;
  }
  return { max, visible };
}
function patternReference({ q, k, v, bias }, p, s2, pattern2) {
  const { H, Tq, Tk, D, Dv } = s2;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  const w = new Float64Array(Tk);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const { max } = patternRowScores(q, k, s2, h, g, r, scale, hb, pattern2, p.causal, w);
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += w[j] = w[j] === -Infinity ? 0 : Math.exp(w[j] - max);
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) if (w[j]) acc += w[j] * v.data[(g * Tk + j) * Dv + d];
        out[(h * Tq + r) * Dv + d] = sum > 0 ? acc / sum : 0;
      }
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}
function sparseCost(s2, pattern2, causal, opts2, sameForAllHeads) {
  const pairs = sameForAllHeads ? s2.H * sparsePairs(s2, pattern2, causal, opts2.queryBlock, 1) : sparsePairs(s2, pattern2, causal, opts2.queryBlock);
  const perRow = s2.Tq > 0 ? pairs / (s2.H * s2.Tq) : 0;
  return {
    flops: 2 * pairs * (s2.D + s2.Dv),
    // Score tile, its mask and exponentials; the running (m, ℓ, O) of a block; one head's q, k, v.
    workspaceBytes: 3 * opts2.queryBlock * opts2.keyChunk * 4 + opts2.queryBlock * (s2.Dv + 2) * 8 + (s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv)) * 4,
    bytesMoved: 4 * (s2.H * s2.Tq * (s2.D + s2.Dv) + pairs * (s2.D + s2.Dv) / opts2.queryBlock),
    note: `\u2248${Math.round(perRow)} keys per query in ${opts2.queryBlock}\xD7${opts2.keyChunk} tiles`
  };
}

// src/nodes/attention/bigbird.ts
function bigbirdBlocks(p, Tk) {
  const b = p.blockSize;
  const nb = Math.max(1, Math.ceil(Tk / b));
  const half = (p.windowBlocks - 1) / 2;
  const isGlobal = (J) => J < Math.ceil(p.globalBlocks / 2) || J >= nb - Math.floor(p.globalBlocks / 2);
  const memo = /* @__PURE__ */ new Map();
  function keysOf(h, I) {
    const key = h * nb + I;
    if (memo.has(key)) return memo.get(key);
    let list = null;
    if (!isGlobal(I)) {
      const fixed = /* @__PURE__ */ new Set();
      for (let J = Math.max(0, I - half); J <= Math.min(nb - 1, I + half); J++) fixed.add(J);
      const cand = [];
      for (let J = 0; J < nb; J++) {
        if (isGlobal(J)) fixed.add(J);
        else if (!fixed.has(J) && Math.abs(J - I) > half && (!p.causal || J < I)) cand.push(J);
      }
      const u = rng(p.seed, h, I);
      const take = Math.min(p.randomBlocks, cand.length);
      for (let t = 0; t < take; t++) {
        const pick = t + Math.floor(u() * (cand.length - t));
        [cand[t], cand[pick]] = [cand[pick], cand[t]];
        fixed.add(cand[t]);
      }
      list = Int32Array.from([...fixed].sort((x, y) => x - y));
    }
    memo.set(key, list);
    return list;
  }
  return { nb, isGlobal, keysOf };
}
function bigbirdPattern(p, Tk) {
  const b = p.blockSize;
  const { keysOf } = bigbirdBlocks(p, Tk);
  return {
    keyRanges(h, i0, i1) {
      const ranges = [];
      for (let I = Math.floor(i0 / b); I <= Math.floor((i1 - 1) / b); I++) {
        const list = keysOf(h, I);
        if (!list) return [[0, Tk]];
        for (const J of list) ranges.push([J * b, (J + 1) * b]);
      }
      return mergeRanges(ranges, 0, Tk);
    },
    logWeight(h, i, j) {
      const list = keysOf(h, Math.floor(i / b));
      return !list || list.includes(Math.floor(j / b)) ? 0 : -Infinity;
    },
    // Rows of one block see every column its key ranges list.
    fullyVisible: (_h, i0, i1) => Math.floor(i0 / b) === Math.floor((i1 - 1) / b)
  };
}
var opts = (p) => ({ queryBlock: p.blockSize, keyChunk: Math.max(p.blockSize, 256) });
function runOnKernel(...[ctx, ins, p, s2]) {
  const b = p.blockSize;
  if (b % 8 !== 0 || b > 256) return Promise.resolve(void 0);
  const { nb, keysOf } = bigbirdBlocks(p, s2.Tk);
  const every = Array.from({ length: nb }, (_, J) => J);
  const tilesOf = (h, r0) => keysOf(h, Math.floor((s2.Tk - s2.Tq + r0) / b)) ?? every;
  return runFused(ctx, ins, p, s2, { blockQ: b, blockK: b, queryBlocks: [...queryBlocks(s2, b)], tilesOf });
}
var bigbird = {
  params: z3.object({
    variant: z3.literal("bigbird"),
    ...commonParams,
    blockSize: z3.number().int().min(1).max(4096).default(64).describe("tokens per block"),
    windowBlocks: z3.number().int().min(1).max(255).default(3).describe("neighbouring blocks each query block sees, itself included (odd)"),
    globalBlocks: z3.number().int().min(0).max(255).default(2).describe("global blocks: the first \u2308g/2\u2309 and the last \u230Ag/2\u230B"),
    randomBlocks: z3.number().int().min(0).max(255).default(3).describe("random key blocks per query block and head"),
    seed: z3.number().int().default(0).describe("seed of the random blocks")
  }).refine((p) => p.windowBlocks % 2 === 1, { message: "windowBlocks must be odd (the block and (w\u22121)/2 on each side)", path: ["windowBlocks"] }),
  doc: {
    title: "BigBird (block-sparse: window + global + random)",
    summary: "Block-sparse attention: each query block sees neighbouring blocks, global blocks and a few random blocks; global blocks see everything.",
    formula: "softmax over keys in blocks J \u2208 window(I) \u222A global \u222A random(h, I) (all J when I is global), of q_i\xB7k_j\xB7scale + bias",
    references: [{ title: "Big Bird: Transformers for Longer Sequences", year: 2020 }]
  },
  cost: (s2, p) => sparseCost(s2, bigbirdPattern(p, s2.Tk), p.causal, opts(p), p.randomBlocks === 0),
  run: async (ctx, ins, p, s2) => await runOnKernel(ctx, ins, p, s2) ?? blockSparseAttention(ctx, ins, p, s2, bigbirdPattern(p, s2.Tk), opts(p)),
  reference: (ins, p, s2) => patternReference(ins, p, s2, bigbirdPattern(p, s2.Tk)),
  probe: (p, s2) => ({ activation: "softmax", pattern: bigbirdPattern(p, s2.Tk) })
};

// src/nodes/attention/cosformer.ts
import { z as z4 } from "zod";

// src/nodes/attention/kernelized.ts
var CHUNK = 64;
var QUERY_BLOCK = 64;
var KEY_TILE = 256;
async function featureAttention(ctx, { q, k, v, bias }, p, s2, fm) {
  const { tf: tf3 } = ctx;
  const rs = Math.sqrt(scaleOf(p, s2.D));
  const off = s2.Tk - s2.Tq;
  const plan = biasPlan(bias);
  const fast = plan.kind === "none" || plan.kind === "alibi" && p.causal;
  const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
  const tileBuf = new Float32Array(Math.max(CHUNK * CHUNK, QUERY_BLOCK * KEY_TILE));
  ctx.track(tileBuf.byteLength);
  const finish = (num, den) => fm.normalize ? tf3.divNoNan(num, den) : num;
  let fk;
  let vh;
  let loaded = -1;
  try {
    for (let h = 0; h < s2.H; h++) {
      const g = groupOf(h, s2);
      if (g !== loaded) {
        tf3.dispose([fk, vh].filter(Boolean));
        fk = tf3.tidy(() => fm.keys(tf3, tf3.mul(tf3.tensor2d(headView(k, g), [s2.Tk, s2.D]), rs), g));
        vh = tf3.tensor2d(headView(v, g), [s2.Tk, s2.Dv]);
        loaded = g;
      }
      const F = fk.shape[1];
      const fq = tf3.tidy(() => fm.queries(tf3, tf3.mul(tf3.tensor2d(headView(q, h), [s2.Tq, s2.D]), rs), h));
      const hb = headBias(bias, h);
      const parts = [];
      if (fast && !p.causal) {
        parts.push(tf3.tidy(() => finish(tf3.matMul(fq, tf3.matMul(fk, vh, true, false)), tf3.matMul(fq, tf3.reshape(tf3.sum(fk, 0), [F, 1])))));
      } else if (fast) {
        const gamma = plan.kind === "alibi" ? Math.exp(-plan.slope(h)) : 1;
        let S = tf3.zeros([F, s2.Dv]);
        let z34 = tf3.zeros([F, 1]);
        const absorb = (j0, j1) => {
          const n = j1 - j0;
          const next = tf3.tidy(() => {
            let kf = tf3.slice(fk, [j0, 0], [n, F]);
            if (gamma !== 1) kf = tf3.mul(kf, tf3.tensor2d(Float32Array.from({ length: n }, (_, t) => gamma ** (n - t)), [n, 1]));
            const d = gamma ** n;
            return [tf3.add(tf3.mul(S, d), tf3.matMul(kf, tf3.slice(vh, [j0, 0], [n, s2.Dv]), true, false)), tf3.add(tf3.mul(z34, d), tf3.reshape(tf3.sum(kf, 0), [F, 1]))];
          });
          tf3.dispose([S, z34]);
          [S, z34] = next;
        };
        for (let j0 = 0; j0 < off; j0 += CHUNK) absorb(j0, Math.min(off, j0 + CHUNK));
        for (let r0 = 0; r0 < s2.Tq; r0 += CHUNK) {
          ctx.checkCancelled();
          const rows = Math.min(CHUNK, s2.Tq - r0);
          const a0 = off + r0;
          const view = tileBuf.subarray(0, rows * rows);
          fillBiasTile(hb, true, a0, rows, a0, rows, view);
          parts.push(
            tf3.tidy(() => {
              let fqc = tf3.slice(fq, [r0, 0], [rows, F]);
              const intra = tf3.mul(tf3.exp(tf3.tensor2d(view, [rows, rows])), tf3.matMul(fqc, tf3.slice(fk, [a0, 0], [rows, F]), false, true));
              if (gamma !== 1) fqc = tf3.mul(fqc, tf3.tensor2d(Float32Array.from({ length: rows }, (_, t) => gamma ** t), [rows, 1]));
              const num = tf3.add(tf3.matMul(fqc, S), tf3.matMul(intra, tf3.slice(vh, [a0, 0], [rows, s2.Dv])));
              return finish(num, tf3.add(tf3.matMul(fqc, z34), tf3.sum(intra, 1, true)));
            })
          );
          absorb(a0, a0 + rows);
        }
        tf3.dispose([S, z34]);
      } else {
        for (let r0 = 0; r0 < s2.Tq; r0 += QUERY_BLOCK) {
          const rows = Math.min(QUERY_BLOCK, s2.Tq - r0);
          const fqc = tf3.slice(fq, [r0, 0], [rows, F]);
          let num = tf3.zeros([rows, s2.Dv]);
          let den = tf3.zeros([rows, 1]);
          const colEnd = p.causal ? off + r0 + rows : s2.Tk;
          for (let c0 = 0; c0 < colEnd; c0 += KEY_TILE) {
            ctx.checkCancelled();
            const cols = Math.min(KEY_TILE, colEnd - c0);
            const view = tileBuf.subarray(0, rows * cols);
            if (!fillBiasTile(hb, p.causal, off + r0, rows, c0, cols, view)) continue;
            const next = tf3.tidy(() => {
              const w = tf3.mul(tf3.exp(tf3.tensor2d(view, [rows, cols])), tf3.matMul(fqc, tf3.slice(fk, [c0, 0], [cols, F]), false, true));
              return [tf3.add(num, tf3.matMul(w, tf3.slice(vh, [c0, 0], [cols, s2.Dv]))), tf3.add(den, tf3.sum(w, 1, true))];
            });
            tf3.dispose([num, den]);
            [num, den] = next;
          }
          parts.push(tf3.tidy(() => fm.normalize ? tf3.divNoNan(num, den) : tf3.clone(num)));
          tf3.dispose([num, den, fqc]);
        }
      }
      const o = parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
      out.set(await o.data(), h * s2.Tq * s2.Dv);
      tf3.dispose([o, ...parts, fq]);
      ctx.progress((h + 1) / s2.H);
    }
  } finally {
    tf3.dispose([fk, vh].filter(Boolean));
    fm.dispose?.();
    ctx.release(tileBuf.byteLength);
  }
  return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
}
function kernelReference({ v, bias }, p, s2, kappa, normalize) {
  const { H, Tq, Tk, Dv } = s2;
  const out = new Float32Array(H * Tq * Dv);
  const num = new Float64Array(Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      num.fill(0);
      let den = 0;
      for (let j = 0; j < Tk; j++) {
        if (p.causal && j > i || !hb.allowed(i, j)) continue;
        const w = kappa(h, i, j) * Math.exp(hb.add(i, j));
        den += w;
        for (let d = 0; d < Dv; d++) num[d] += w * v.data[(g * Tk + j) * Dv + d];
      }
      for (let d = 0; d < Dv; d++) out[(h * Tq + r) * Dv + d] = !normalize ? num[d] : den !== 0 ? num[d] / den : 0;
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}
function featureCost(s2, causal, F, featureFlops, c) {
  const head = s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv) + (s2.Tq + s2.Tk) * F;
  if (c?.bias) {
    const pairs = causal && s2.Tq === s2.Tk ? s2.Tq * (s2.Tq + 1) / 2 : s2.Tq * s2.Tk;
    return {
      flops: featureFlops + 2 * s2.H * pairs * (F + s2.Dv + 1),
      workspaceBytes: 3 * QUERY_BLOCK * KEY_TILE * 4 + QUERY_BLOCK * (s2.Dv + 1) * 8 + head * 4,
      note: "with a bias: every visible tile (a mask bias has no prefix-sum form)"
    };
  }
  const state = 2 * s2.Tk * F * (s2.Dv + 1) + 2 * s2.Tq * F * (s2.Dv + 1);
  const diag = causal ? 2 * s2.Tq * Math.min(CHUNK, s2.Tq) * (F + s2.Dv + 1) : 0;
  return {
    flops: featureFlops + s2.H * (state + diag),
    workspaceBytes: (F * (s2.Dv + 1) + CHUNK * CHUNK * 2) * 4 + head * 4,
    note: causal ? `state ${F}\xD7${s2.Dv} carried over chunks of ${CHUNK}` : `state ${F}\xD7${s2.Dv}`
  };
}

// src/nodes/attention/cosformer.ts
function features(tf3, x, start, M) {
  const n = x.shape[0];
  const a = Float32Array.from({ length: n }, (_, t) => Math.PI / 2 * (start + t) / M);
  const r = tf3.relu(x);
  return tf3.concat([tf3.mul(r, tf3.tensor2d(a.map(Math.cos), [n, 1])), tf3.mul(r, tf3.tensor2d(a.map(Math.sin), [n, 1]))], 1);
}
var featureMap = (s2) => ({
  queries: (tf3, q) => features(tf3, q, s2.Tk - s2.Tq, s2.Tk),
  keys: (tf3, k) => features(tf3, k, 0, s2.Tk),
  normalize: true
});
var cosformer = {
  params: z4.object({ variant: z4.literal("cosformer"), ...commonParams }),
  doc: {
    title: "cosFormer",
    summary: "Linear attention with ReLU features and a cos-based re-weighting cos(\u03C0/2\xB7(i\u2212j)/M) that favours locality, computed in its decomposed linear form. The probe shows exact attention's map.",
    formula: "O_i = \u03A3_j relu(q_i)\xB7relu(k_j)\xB7cos(\u03C0(i\u2212j)/(2M))\xB7v_j / \u03A3_j relu(q_i)\xB7relu(k_j)\xB7cos(\u03C0(i\u2212j)/(2M)), M = Tk",
    references: [{ title: "cosFormer: Rethinking Softmax in Attention", year: 2022 }]
  },
  cost: (s2, p, c) => featureCost(s2, p.causal, 2 * s2.D, 3 * (s2.H * s2.Tq + s2.Hkv * s2.Tk) * s2.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s2) => featureAttention(ctx, ins, p, s2, featureMap(s2)),
  reference({ q, k, v, bias }, p, s2) {
    const sc = scaleOf(p, s2.D);
    const off = s2.Tk - s2.Tq;
    const kappa = (h, i, j) => {
      const g = groupOf(h, s2);
      let dot = 0;
      for (let d = 0; d < s2.D; d++) dot += Math.max(0, q.data[(h * s2.Tq + i - off) * s2.D + d]) * Math.max(0, k.data[(g * s2.Tk + j) * s2.D + d]);
      return sc * dot * Math.cos(Math.PI / 2 * ((i - j) / s2.Tk));
    };
    return kernelReference({ v, bias }, p, s2, kappa, true);
  }
};

// src/nodes/attention/dilated.ts
import { z as z5 } from "zod";
var BATCH_ENTRIES = 1 << 20;
function geometry(w, r, h, Tk) {
  const W = Math.min(w, Tk);
  const o = h % r;
  const n = Math.max(0, Math.ceil((W - o) / r));
  const kept = (pos) => {
    const t = pos % W - o;
    return t >= 0 && t % r === 0;
  };
  return { W, o, n, segments: Math.ceil(Tk / W), kept };
}
function dilatedPattern(p, Tk) {
  return {
    keyRanges(h, i0, i1) {
      const ranges = [];
      p.segmentLengths.forEach((w, k) => {
        const { W } = geometry(w, p.dilationRates[k], h, Tk);
        for (let t = Math.floor(i0 / W); t * W < i1; t++) ranges.push([t * W, (t + 1) * W]);
      });
      return mergeRanges(ranges, 0, Tk);
    },
    logWeight(h, i, j) {
      let count = 0;
      p.segmentLengths.forEach((w, k) => {
        const g = geometry(w, p.dilationRates[k], h, Tk);
        if (Math.floor(i / g.W) === Math.floor(j / g.W) && g.kept(i) && g.kept(j)) count++;
      });
      return Math.log(count);
    }
  };
}
async function runOnKernel2(ctx, { q, k, v, bias }, p, s2) {
  const { Tq, Tk, D, Dv } = s2;
  const off = Tk - Tq;
  const out = new Float32Array(s2.H * Tq * Dv);
  const mRun = new Float64Array(Tq);
  const lRun = new Float64Array(Tq);
  const accRun = new Float64Array(Tq * Dv);
  for (let h = 0; h < s2.H; h++) {
    const g = groupOf(h, s2);
    mRun.fill(-Infinity);
    lRun.fill(0);
    accRun.fill(0);
    for (let pk = 0; pk < p.segmentLengths.length; pk++) {
      const { W, kept } = geometry(p.segmentLengths[pk], p.dilationRates[pk], h, Tk);
      const kpos = Int32Array.from({ length: Tk }, (_, x) => x).filter(kept);
      const qpos = kpos.filter((x) => x >= off);
      if (!qpos.length) continue;
      const gather = (src, head, T, n, pos, shift) => {
        const dst = new Float32Array(pos.length * n);
        pos.forEach((x, a) => dst.set(src.subarray((head * T + x - shift) * n, (head * T + x - shift + 1) * n), a * n));
        return dst;
      };
      const segQ = qpos.map((x) => Math.floor(x / W));
      const segK = kpos.map((x) => Math.floor(x / W));
      const r = await kernelCall(ctx, {
        q: gather(q.data, h, Tq, D, qpos, off),
        k: gather(k.data, g, Tk, D, kpos, 0),
        v: gather(v.data, g, Tk, Dv, kpos, 0),
        s: { H: 1, Hkv: 1, Tq: qpos.length, Tk: kpos.length, D, Dv },
        p,
        bias,
        head0: h,
        qpos,
        kpos,
        intervals: [{ qa: segQ, qb: segQ, ka: segK, kb: segK }]
      });
      qpos.forEach((x, a) => {
        const lse = r.lse[a];
        if (lse === -Infinity) return;
        const row = x - off;
        const mNew = Math.max(mRun[row], lse);
        const cOld = Math.exp(mRun[row] - mNew);
        const cNew = Math.exp(lse - mNew);
        mRun[row] = mNew;
        lRun[row] = lRun[row] * cOld + cNew;
        for (let c = 0; c < Dv; c++) accRun[row * Dv + c] = accRun[row * Dv + c] * cOld + r.out[a * Dv + c] * cNew;
      });
    }
    for (let row = 0; row < Tq; row++)
      for (let c = 0; c < Dv; c++) out[(h * Tq + row) * Dv + c] = lRun[row] > 0 ? accRun[row * Dv + c] / lRun[row] : 0;
  }
  return f32([s2.H, Tq, Dv], out, ["H", "T", "D"]);
}
async function run(ctx, { q, k, v, bias }, p, s2) {
  if (fusedAvailable(ctx)) return runOnKernel2(ctx, { q, k, v, bias }, p, s2);
  const { tf: tf3 } = ctx;
  const scale = scaleOf(p, s2.D);
  const off = s2.Tk - s2.Tq;
  const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
  const mRun = new Float64Array(s2.Tq);
  const lRun = new Float64Array(s2.Tq);
  const accRun = new Float64Array(s2.Tq * s2.Dv);
  ctx.track(mRun.byteLength * 2 + accRun.byteLength);
  for (let h = 0; h < s2.H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    mRun.fill(-Infinity);
    lRun.fill(0);
    accRun.fill(0);
    const [qh, kh, vh] = uploadHead(tf3, q, k, v, h, g, scale, s2);
    for (let pk = 0; pk < p.segmentLengths.length; pk++) {
      const { W, o, n, segments } = geometry(p.segmentLengths[pk], p.dilationRates[pk], h, s2.Tk);
      const r = p.dilationRates[pk];
      if (n === 0) continue;
      const per = Math.max(1, Math.floor(BATCH_ENTRIES / (n * n)));
      for (let t0 = Math.floor(off / W); t0 < segments; t0 += per) {
        ctx.checkCancelled();
        const nb = Math.min(per, segments - t0);
        const pos = new Int32Array(nb * n).fill(-1);
        for (let b = 0; b < nb; b++)
          for (let u = 0; u < n; u++) {
            const x = (t0 + b) * W + o + u * r;
            if (x < Math.min(s2.Tk, (t0 + b + 1) * W)) pos[b * n + u] = x;
          }
        const mask = new Float32Array(nb * n * n);
        for (let b = 0; b < nb; b++)
          for (let a = 0; a < n; a++) {
            const i = pos[b * n + a];
            for (let c = 0; c < n; c++) {
              const j = pos[b * n + c];
              const ok = i >= off && j >= 0 && (!p.causal || j <= i) && hb.allowed(i, j);
              mask[(b * n + a) * n + c] = ok ? hb.add(i, j) : -Infinity;
            }
          }
        const res = tf3.tidy(() => {
          const qi = tf3.tensor1d(pos.map((x) => Math.max(0, x - off)), "int32");
          const ki = tf3.tensor1d(pos.map((x) => Math.max(0, x)), "int32");
          const qs = tf3.reshape(tf3.gather(qh, qi), [nb, n, s2.D]);
          const ks = tf3.reshape(tf3.gather(kh, ki), [nb, n, s2.D]);
          const vs = tf3.reshape(tf3.gather(vh, ki), [nb, n, s2.Dv]);
          const sc = tf3.add(tf3.matMul(qs, ks, false, true), tf3.tensor3d(mask, [nb, n, n]));
          const m = tf3.maximum(tf3.max(sc, 2, true), -1e30);
          const pr = tf3.exp(tf3.sub(sc, m));
          return tf3.concat([m, tf3.sum(pr, 2, true), tf3.matMul(pr, vs)], 2);
        });
        const d = await res.data();
        res.dispose();
        for (let e = 0; e < nb * n; e++) {
          const i = pos[e];
          const l = d[e * (s2.Dv + 2) + 1];
          if (i < off || !(l > 0)) continue;
          const row = i - off;
          const m = d[e * (s2.Dv + 2)];
          const mNew = Math.max(mRun[row], m);
          const cOld = Math.exp(mRun[row] - mNew);
          const cNew = Math.exp(m - mNew);
          mRun[row] = mNew;
          lRun[row] = lRun[row] * cOld + l * cNew;
          for (let c = 0; c < s2.Dv; c++) accRun[row * s2.Dv + c] = accRun[row * s2.Dv + c] * cOld + d[e * (s2.Dv + 2) + 2 + c] * cNew;
        }
      }
    }
    tf3.dispose([qh, kh, vh]);
    for (let row = 0; row < s2.Tq; row++)
      for (let c = 0; c < s2.Dv; c++) out[(h * s2.Tq + row) * s2.Dv + c] = lRun[row] > 0 ? accRun[row * s2.Dv + c] / lRun[row] : 0;
    ctx.progress((h + 1) / s2.H);
  }
  ctx.release(mRun.byteLength * 2 + accRun.byteLength);
  return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
}
function reference({ q, k, v, bias }, p, s2) {
  const { H, Tq, Tk, D, Dv } = s2;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let row = 0; row < Tq; row++) {
      const i = Tk - Tq + row;
      const parts = [];
      p.segmentLengths.forEach((w, pk) => {
        const geo = geometry(w, p.dilationRates[pk], h, Tk);
        if (!geo.kept(i)) return;
        const t = Math.floor(i / geo.W);
        const keys = [];
        for (let j = t * geo.W; j < Math.min(Tk, (t + 1) * geo.W); j++)
          if (geo.kept(j) && (!p.causal || j <= i) && hb.allowed(i, j)) keys.push(j);
        if (!keys.length) return;
        const sc = keys.map((j) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[(h * Tq + row) * D + d] * k.data[(g * Tk + j) * D + d];
          return dot * scale + hb.add(i, j);
        });
        const max = Math.max(...sc);
        const e = sc.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, b) => a + b, 0);
        const o = new Float64Array(Dv);
        keys.forEach((j, n) => {
          for (let d = 0; d < Dv; d++) o[d] += e[n] / sum * v.data[(g * Tk + j) * Dv + d];
        });
        parts.push({ lse: max + Math.log(sum), o });
      });
      if (!parts.length) continue;
      const M = Math.max(...parts.map((x) => x.lse));
      const wts = parts.map((x) => Math.exp(x.lse - M));
      const Z = wts.reduce((a, b) => a + b, 0);
      for (let d = 0; d < Dv; d++) out[(h * Tq + row) * Dv + d] = parts.reduce((a, x, n) => a + wts[n] / Z * x.o[d], 0);
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}
var dilated = {
  params: z5.object({
    variant: z5.literal("dilated"),
    ...commonParams,
    segmentLengths: z5.array(z5.number().int().min(1).max(1 << 22)).min(1).max(16).default([512, 1024, 2048]).describe("segment length w of each pair"),
    dilationRates: z5.array(z5.number().int().min(1).max(4096)).min(1).max(16).default([1, 2, 4]).describe("dilation rate r of each pair")
  }).refine((p) => p.segmentLengths.length === p.dilationRates.length, {
    message: "segmentLengths and dilationRates must have the same length (one (w, r) pair each)",
    path: ["dilationRates"]
  }),
  doc: {
    title: "Dilated attention (LongNet)",
    summary: "Per (w, r) pair: segments of length w, every r-th position kept (offset by head), dense attention inside each sparsified segment; the pairs are mixed by their softmax denominators. O(T\xB7\u03A3 w/r\xB2\xB7D).",
    formula: "O\u2096 = softmax(Q\u0303\u2096K\u0303\u2096\u1D40\xB7scale + bias)\xB7\u1E7C\u2096 per segment; O = \u03A3\u2096 s\u2096\xB7O\u2096 / \u03A3\u2096 s\u2096, s\u2096 the softmax denominator of pair k",
    references: [{ title: "LongNet: Scaling Transformers to 1,000,000,000 Tokens", year: 2023 }]
  },
  cost(s2, p) {
    let entries = 0;
    let maxBatch = 0;
    for (let h = 0; h < s2.H; h++)
      p.segmentLengths.forEach((w, pk) => {
        const { W, n, segments } = geometry(w, p.dilationRates[pk], h, s2.Tk);
        entries += (segments - Math.floor((s2.Tk - s2.Tq) / W)) * n * n;
        maxBatch = Math.max(maxBatch, Math.min(segments, Math.max(1, Math.floor(BATCH_ENTRIES / Math.max(1, n * n)))) * n * n);
      });
    return {
      flops: 2 * entries * (s2.D + s2.Dv),
      // One batch of segment scores, mask and probabilities; the running merge state of a head.
      workspaceBytes: 3 * maxBatch * 4 + s2.Tq * (s2.Dv + 2) * 8 + (s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv)) * 4,
      bytesMoved: 4 * (s2.H * s2.Tq * (s2.D + s2.Dv) * p.segmentLengths.length + entries * 2),
      note: `pairs ${p.segmentLengths.map((w, k) => `(${w}, ${p.dilationRates[k]})`).join(" ")}`
    };
  },
  run,
  reference,
  probe: (p, s2) => ({ activation: "softmax", pattern: dilatedPattern(p, s2.Tk) })
};

// src/nodes/attention/flash-decoding.ts
import { z as z6 } from "zod";

// src/nodes/attention/reference.ts
function attentionDims(q, k, v) {
  const s2 = (t) => t.shape.length === 4 && t.shape[0] === 1 ? t.shape.slice(1) : t.shape;
  const [H, Tq, D] = s2(q);
  const [Hkv, Tk] = s2(k);
  const Dv = s2(v)[2];
  return { H, Hkv, Tq, Tk, D, Dv };
}
function naiveAttentionReference(q, k, v, opts2) {
  const { H, Hkv, Tq, Tk, D, Dv } = attentionDims(q, k, v);
  const scale = opts2.scale ?? 1 / Math.sqrt(D);
  const out = new Float32Array(H * Tq * Dv);
  const scores = new Float64Array(Tk);
  const group = H / Hkv;
  const offset = Tk - Tq;
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    const hb = headBias(opts2.bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = offset + r;
      let max = -Infinity;
      for (let j = 0; j < Tk; j++) {
        if (opts2.causal && j > i || !hb.allowed(i, j)) {
          scores[j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d] * k.data[(g * Tk + j) * D + d];
        const s2 = dot * scale + hb.add(i, j);
        scores[j] = s2;
        if (s2 > max) max = s2;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) {
        const e = scores[j] === -Infinity ? 0 : Math.exp(scores[j] - max);
        scores[j] = e;
        sum += e;
      }
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) if (scores[j]) acc += scores[j] * v.data[(g * Tk + j) * Dv + d];
        out[(h * Tq + r) * Dv + d] = sum > 0 ? acc / sum : 0;
      }
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}

// src/nodes/attention/flash-decoding.ts
var ROWS = 64;
var flashDecoding = {
  params: z6.object({
    variant: z6.literal("flash-decoding"),
    ...commonParams,
    numSplits: z6.number().int().min(1).max(1024).default(8).describe("chunks K/V is split into along the sequence")
  }),
  doc: {
    title: "Flash-Decoding (split K/V)",
    summary: "Splits K/V along the sequence, computes a partial softmax per split in parallel and merges the splits with log-sum-exp weights; exact. Made for few query rows over a long cache.",
    formula: "m = max\u209B m\u209B, \u2113 = \u03A3\u209B \u2113\u209B\xB7e^(m\u209B\u2212m), O = \u03A3\u209B O\u209B\xB7e^(m\u209B\u2212m) / \u2113, with (m\u209B, \u2113\u209B, O\u209B) the max, denominator and unnormalised output of split s",
    references: [
      { title: "Flash-Decoding for long-context inference", year: 2023, url: "https://crfm.stanford.edu/2023/10/12/flashdecoding.html" },
      { title: "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning", year: 2023 }
    ]
  },
  cost: (s2, p) => {
    const S = Math.min(p.numSplits, Math.max(1, s2.Tk));
    const chunk = Math.ceil(s2.Tk / S);
    const rows = Math.min(ROWS, s2.Tq);
    return {
      // Exact attention plus the merge (a few flops per split per output element).
      flops: exactFlops(s2, p.causal) + 4 * s2.H * s2.Tq * S * (s2.Dv + 2),
      // Scores, probabilities and mask of one batch of rows against every split, and the partials.
      workspaceBytes: 3 * S * rows * chunk * 4 + S * rows * (s2.Dv + 2) * 4 + s2.Tk * (s2.D + s2.Dv) * 4,
      bytesMoved: 4 * (s2.H * s2.Tq * (s2.D + s2.Dv) + s2.H * s2.Tk * (s2.D + s2.Dv) * Math.ceil(s2.Tq / rows)),
      note: `${S} splits of ${chunk} keys \xD7 ${rows} query rows`
    };
  },
  async run(ctx, { q, k, v, bias }, p, s2) {
    const fused = await runFused(ctx, { q, k, v, bias }, p, s2, { splits: p.numSplits });
    if (fused) return fused;
    const { tf: tf3 } = ctx;
    const S = Math.min(p.numSplits, Math.max(1, s2.Tk));
    const chunk = Math.ceil(s2.Tk / S);
    const padded = S * chunk;
    const scale = scaleOf(p, s2.D);
    const off = s2.Tk - s2.Tq;
    const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
    const hasBias = (bias?.terms.length ?? 0) > 0;
    const maskBuf = new Float32Array(ROWS * padded);
    const tileBuf = new Float32Array(ROWS * chunk);
    ctx.track(maskBuf.byteLength + tileBuf.byteLength);
    let K3;
    let V3;
    let loaded = -1;
    try {
      for (let h = 0; h < s2.H; h++) {
        const g = groupOf(h, s2);
        if (g !== loaded) {
          tf3.dispose([K3, V3].filter(Boolean));
          [K3, V3] = tf3.tidy(() => [
            tf3.reshape(tf3.pad(tf3.tensor2d(headView(k, g), [s2.Tk, s2.D]), [[0, padded - s2.Tk], [0, 0]]), [S, chunk, s2.D]),
            tf3.reshape(tf3.pad(tf3.tensor2d(headView(v, g), [s2.Tk, s2.Dv]), [[0, padded - s2.Tk], [0, 0]]), [S, chunk, s2.Dv])
          ]);
          loaded = g;
        }
        const hb = headBias(bias, h);
        const parts = [];
        for (let r0 = 0; r0 < s2.Tq; r0 += ROWS) {
          ctx.checkCancelled();
          const rows = Math.min(ROWS, s2.Tq - r0);
          const used = p.causal ? Math.min(S, Math.ceil((off + r0 + rows) / chunk)) : S;
          let first = used;
          while (first > 0 && (hasBias || p.causal && first * chunk - 1 > off + r0 || first * chunk > s2.Tk)) first--;
          let mask;
          if (first < used) {
            const view = maskBuf.subarray(0, (used - first) * rows * chunk);
            for (let sp = first; sp < used; sp++) {
              const real = Math.max(0, Math.min(chunk, s2.Tk - sp * chunk));
              const tile = tileBuf.subarray(0, rows * real);
              fillBiasTile(hb, p.causal, off + r0, rows, sp * chunk, real, tile);
              for (let r = 0; r < rows; r++) {
                const at = ((sp - first) * rows + r) * chunk;
                view.set(tile.subarray(r * real, (r + 1) * real), at);
                view.fill(-Infinity, at + real, at + chunk);
              }
            }
            mask = tf3.tidy(() => {
              const m = tf3.tensor3d(view, [used - first, rows, chunk]);
              return first > 0 ? tf3.concat([tf3.zeros([first, rows, chunk]), m], 0) : tf3.clone(m);
            });
          }
          const o2 = tf3.tidy(() => {
            const qt = tf3.mul(tf3.tensor3d(headView(q, h).subarray(r0 * s2.D, (r0 + rows) * s2.D), [1, rows, s2.D]), scale);
            const Ks = used === S ? K3 : tf3.slice(K3, [0, 0, 0], [used, chunk, s2.D]);
            const Vs = used === S ? V3 : tf3.slice(V3, [0, 0, 0], [used, chunk, s2.Dv]);
            let sc = tf3.matMul(qt, Ks, false, true);
            if (mask) sc = tf3.add(sc, mask);
            const ms = tf3.maximum(tf3.max(sc, 2, true), -1e30);
            const pr = tf3.exp(tf3.sub(sc, ms));
            const ls = tf3.sum(pr, 2, true);
            const Os = tf3.matMul(pr, Vs);
            const m = tf3.max(ms, 0, true);
            const w = tf3.exp(tf3.sub(ms, m));
            const l = tf3.sum(tf3.mul(ls, w), 0);
            return tf3.divNoNan(tf3.sum(tf3.mul(Os, w), 0), l);
          });
          parts.push(o2);
          mask?.dispose();
        }
        const o = parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
        out.set(await o.data(), h * s2.Tq * s2.Dv);
        tf3.dispose([o, ...parts]);
        ctx.progress((h + 1) / s2.H);
      }
    } finally {
      tf3.dispose([K3, V3].filter(Boolean));
      ctx.release(maskBuf.byteLength + tileBuf.byteLength);
    }
    return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias })
};

// src/nodes/attention/flash.ts
import { z as z7 } from "zod";
var flashParams = {
  blockSize: z7.number().int().min(16).max(4096).default(256).describe("rows and columns of one score tile")
};
function transposeRows(x, c0, cols, D) {
  const out = new Float32Array(D * cols);
  for (let j = 0; j < cols; j++) for (let d = 0; d < D; d++) out[d * cols + j] = x[(c0 + j) * D + d];
  return out;
}
var flash = {
  params: z7.object({ variant: z7.literal("flash"), ...commonParams, ...flashParams }),
  doc: {
    title: "Tiled / FlashAttention",
    summary: "Exact attention computed tile by tile with an online softmax: O(T\xB7D) memory instead of O(T\xB2).",
    formula: "m' = max(m, rowmax(S_ij)), \u2113' = \u2113\xB7e^(m\u2212m') + \u03A3 e^(S_ij\u2212m'), O' = O\xB7e^(m\u2212m') + e^(S_ij\u2212m')\xB7V_j; O = O/\u2113",
    references: [{ title: "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", year: 2022 }]
  },
  cost: (s2, p) => {
    const b = p.blockSize;
    return {
      flops: exactFlops(s2, p.causal),
      // One score tile, its exponentials and mask, the running (m, ℓ, O) of a query block, and the
      // current head's q, k, v on the backend.
      workspaceBytes: 3 * b * b * 4 + b * (s2.Dv + 2) * 4 * 2 + (s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv)) * 4,
      bytesMoved: 4 * (s2.H * s2.Tq * (s2.D + s2.Dv) + s2.H * s2.Tk * (s2.D + s2.Dv) * Math.ceil(s2.Tq / b)),
      note: `one ${b}\xD7${b} score tile`
    };
  },
  async run(ctx, { q, k, v, bias }, p, s2) {
    const fused = await runFused(ctx, { q, k, v, bias }, p, s2);
    if (fused) return fused;
    const { tf: tf3 } = ctx;
    const B = p.blockSize;
    const scale = scaleOf(p, s2.D);
    const offset = s2.Tk - s2.Tq;
    const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
    const hasBias = (bias?.terms.length ?? 0) > 0;
    const tileBuf = new Float32Array(B * B);
    ctx.track(tileBuf.byteLength);
    const maskCache = /* @__PURE__ */ new Map();
    const totalBlocks = s2.H * Math.ceil(s2.Tq / B);
    let done = 0;
    let kBlocks = [];
    let vBlocks = [];
    let loadedGroup = -1;
    try {
      for (let h = 0; h < s2.H; h++) {
        const g = Math.floor(h / (s2.H / s2.Hkv));
        if (g !== loadedGroup) {
          tf3.dispose([...kBlocks, ...vBlocks]);
          const kv = headView(k, g);
          const vv = headView(v, g);
          kBlocks = [];
          vBlocks = [];
          for (let c0 = 0; c0 < s2.Tk; c0 += B) {
            const cols = Math.min(B, s2.Tk - c0);
            kBlocks.push(tf3.tensor2d(transposeRows(kv, c0, cols, s2.D), [s2.D, cols]));
            vBlocks.push(tf3.tensor2d(vv.slice(c0 * s2.Dv, (c0 + cols) * s2.Dv), [cols, s2.Dv]));
          }
          loadedGroup = g;
        }
        const hb = headBias(bias, h);
        const qv = headView(q, h);
        for (let r0 = 0; r0 < s2.Tq; r0 += B) {
          const rows = Math.min(B, s2.Tq - r0);
          const qt = tf3.tidy(() => tf3.mul(tf3.tensor2d(qv.slice(r0 * s2.D, (r0 + rows) * s2.D), [rows, s2.D]), scale));
          let m = tf3.fill([rows, 1], -1e30);
          let l = tf3.zeros([rows, 1]);
          let acc = tf3.zeros([rows, s2.Dv]);
          const lastRow = offset + r0 + rows - 1;
          const colEnd = p.causal ? Math.min(s2.Tk, lastRow + 1) : s2.Tk;
          for (let c0 = 0; c0 < colEnd; c0 += B) {
            ctx.checkCancelled();
            const cols = Math.min(B, s2.Tk - c0);
            let mask;
            if (hasBias) {
              const view = tileBuf.subarray(0, rows * cols);
              if (!fillBiasTile(hb, p.causal, offset + r0, rows, c0, cols, view)) continue;
              mask = tf3.tensor2d(view.slice(), [rows, cols]);
            } else if (p.causal && c0 + cols - 1 > offset + r0) {
              const key = `${offset + r0 - c0}:${rows}:${cols}`;
              mask = maskCache.get(key);
              if (!mask) {
                const view = tileBuf.subarray(0, rows * cols);
                fillBiasTile(hb, true, offset + r0, rows, c0, cols, view);
                mask = tf3.keep(tf3.tensor2d(view.slice(), [rows, cols]));
                maskCache.set(key, mask);
              }
            }
            const next = tf3.tidy(() => {
              const kt = kBlocks[c0 / B];
              const vt = vBlocks[c0 / B];
              let sc = tf3.matMul(qt, kt);
              if (mask) sc = tf3.add(sc, mask);
              const mNew = tf3.maximum(m, tf3.max(sc, 1, true));
              const pr = tf3.exp(tf3.sub(sc, mNew));
              const corr = tf3.exp(tf3.sub(m, mNew));
              return [mNew, tf3.add(tf3.mul(l, corr), tf3.sum(pr, 1, true)), tf3.add(tf3.mul(acc, corr), tf3.matMul(pr, vt))];
            });
            if (hasBias) mask.dispose();
            tf3.dispose([m, l, acc]);
            [m, l, acc] = next;
          }
          const o = tf3.tidy(() => tf3.div(acc, tf3.maximum(l, 1e-30)));
          out.set(await o.data(), (h * s2.Tq + r0) * s2.Dv);
          tf3.dispose([o, m, l, acc, qt]);
          ctx.progress(++done / totalBlocks);
        }
      }
    } finally {
      tf3.dispose([...kBlocks, ...vBlocks]);
      for (const t of maskCache.values()) t.dispose();
      ctx.release(tileBuf.byteLength);
    }
    return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias })
};

// src/nodes/attention/linear.ts
import { z as z8 } from "zod";
var elu1 = (x) => x > 0 ? x + 1 : Math.exp(x);
var featureMap2 = {
  queries: (tf3, q) => tf3.add(tf3.elu(q), 1),
  keys: (tf3, k) => tf3.add(tf3.elu(k), 1),
  normalize: true
};
var linear = {
  params: z8.object({
    variant: z8.literal("linear"),
    ...commonParams,
    featureMap: z8.enum(["elu+1"]).default("elu+1").describe("\u03C6 applied to queries and keys")
  }),
  doc: {
    title: "Linear attention (elu + 1)",
    summary: "Kernelized attention with \u03C6(x) = elu(x) + 1: associativity turns O(T\xB2\xB7D) into O(T\xB7D\xB2); causal via prefix sums. The probe shows exact attention's map.",
    formula: "O_i = \u03C6(q_i)\xB7\u03A3_j \u03C6(k_j)v_j\u1D40 / \u03C6(q_i)\xB7\u03A3_j \u03C6(k_j), j \u2264 i when causal; \u03C6(x) = elu(x) + 1 on x\xB7\u221Ascale",
    references: [{ title: "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", year: 2020 }]
  },
  cost: (s2, p, c) => featureCost(s2, p.causal, s2.D, 3 * (s2.H * s2.Tq + s2.Hkv * s2.Tk) * s2.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s2) => featureAttention(ctx, ins, p, s2, featureMap2),
  reference({ q, k, v, bias }, p, s2) {
    const rs = Math.sqrt(scaleOf(p, s2.D));
    const off = s2.Tk - s2.Tq;
    const kappa = (h, i, j) => {
      const g = groupOf(h, s2);
      let dot = 0;
      for (let d = 0; d < s2.D; d++) dot += elu1(rs * q.data[(h * s2.Tq + i - off) * s2.D + d]) * elu1(rs * k.data[(g * s2.Tk + j) * s2.D + d]);
      return dot;
    };
    return kernelReference({ v, bias }, p, s2, kappa, true);
  }
};

// src/nodes/attention/linformer.ts
import { z as z9 } from "zod";
function linformerProjections(k, T, seed, projection = "gaussian") {
  if (projection === "mean") {
    const E = new Float32Array(k * T);
    for (let m = 0; m < k; m++) {
      const [a, b] = [Math.floor(m * T / k), Math.floor((m + 1) * T / k)];
      for (let t = a; t < b; t++) E[m * T + t] = 1 / (b - a);
    }
    return { E, F: E };
  }
  const make = (stream) => {
    const g = gaussian(rng(seed, 4592, stream));
    return Float32Array.from({ length: k * T }, () => g() / Math.sqrt(k));
  };
  return { E: make(0), F: make(1) };
}
var CHUNK2 = 64;
var KEY_TILE2 = 256;
async function run2(ctx, { q, k, v, bias }, p, s2) {
  const { tf: tf3 } = ctx;
  const kp = p.projectedLength;
  const scale = scaleOf(p, s2.D);
  const off = s2.Tk - s2.Tq;
  const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
  const { E: Ed, F: Fd } = linformerProjections(kp, s2.Tk, p.seed, p.projection);
  const general = biasPlan(bias).kind !== "none";
  const tileBuf = new Float32Array(CHUNK2 * KEY_TILE2);
  ctx.track(Ed.byteLength * 2 + tileBuf.byteLength);
  const [E, F] = [tf3.tensor2d(Ed, [kp, s2.Tk]), tf3.tensor2d(Fd, [kp, s2.Tk])];
  try {
    for (let h = 0; h < s2.H; h++) {
      const g = groupOf(h, s2);
      const hb = headBias(bias, h);
      const [qh, kh, vh] = uploadHead(tf3, q, k, v, h, g, scale, s2);
      const parts = [];
      if (!p.causal && !general) {
        parts.push(tf3.tidy(() => tf3.matMul(tf3.softmax(tf3.matMul(qh, tf3.matMul(E, kh), false, true)), tf3.matMul(F, vh))));
      } else {
        let PK = tf3.zeros([kp, s2.D]);
        let PV = tf3.zeros([kp, s2.Dv]);
        const absorb = (j0, j1) => {
          const next = tf3.tidy(() => [
            tf3.add(PK, tf3.matMul(tf3.slice(E, [0, j0], [kp, j1 - j0]), tf3.slice(kh, [j0, 0], [j1 - j0, s2.D]))),
            tf3.add(PV, tf3.matMul(tf3.slice(F, [0, j0], [kp, j1 - j0]), tf3.slice(vh, [j0, 0], [j1 - j0, s2.Dv])))
          ]);
          tf3.dispose([PK, PV]);
          [PK, PV] = next;
        };
        if (!general) for (let j0 = 0; j0 < off; j0 += CHUNK2) absorb(j0, Math.min(off, j0 + CHUNK2));
        for (let r0 = 0; r0 < s2.Tq; r0 += CHUNK2) {
          ctx.checkCancelled();
          const rows = Math.min(CHUNK2, s2.Tq - r0);
          const a0 = off + r0;
          const tiles = [];
          const colStart = general ? 0 : a0;
          const colEnd = p.causal ? a0 + rows : s2.Tk;
          for (let c0 = colStart; c0 < colEnd; c0 += KEY_TILE2) {
            const cols = Math.min(KEY_TILE2, colEnd - c0);
            const view = tileBuf.subarray(0, rows * cols);
            if (!fillBiasTile(hb, p.causal, a0, rows, c0, cols, view)) continue;
            tiles.push({ c0, cols, W: tf3.tidy(() => tf3.exp(tf3.tensor2d(view, [rows, cols]))) });
          }
          parts.push(
            tf3.tidy(() => {
              const qc = tf3.slice(qh, [r0, 0], [rows, s2.D]);
              let sc = tf3.matMul(qc, PK, false, true);
              for (const t of tiles) {
                const qk = tf3.mul(t.W, tf3.matMul(qc, tf3.slice(kh, [t.c0, 0], [t.cols, s2.D]), false, true));
                sc = tf3.add(sc, tf3.matMul(qk, tf3.slice(E, [0, t.c0], [kp, t.cols]), false, true));
              }
              const A = tf3.softmax(sc);
              let o2 = tf3.matMul(A, PV);
              for (const t of tiles) {
                const af = tf3.mul(t.W, tf3.matMul(A, tf3.slice(F, [0, t.c0], [kp, t.cols])));
                o2 = tf3.add(o2, tf3.matMul(af, tf3.slice(vh, [t.c0, 0], [t.cols, s2.Dv])));
              }
              return o2;
            })
          );
          tf3.dispose(tiles.map((t) => t.W));
          if (!general) absorb(a0, a0 + rows);
        }
        tf3.dispose([PK, PV]);
      }
      const o = parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
      out.set(await o.data(), h * s2.Tq * s2.Dv);
      tf3.dispose([o, ...parts, qh, kh, vh]);
      ctx.progress((h + 1) / s2.H);
    }
  } finally {
    tf3.dispose([E, F]);
    ctx.release(Ed.byteLength * 2 + tileBuf.byteLength);
  }
  return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
}
function reference2({ q, k, v, bias }, p, s2) {
  const { H, Tq, Tk, D, Dv } = s2;
  const kp = p.projectedLength;
  const scale = scaleOf(p, D);
  const { E, F } = linformerProjections(kp, Tk, p.seed, p.projection);
  const out = new Float32Array(H * Tq * Dv);
  const Kp = new Float64Array(kp * D);
  const Vp = new Float64Array(kp * Dv);
  const a = new Float64Array(kp);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      Kp.fill(0);
      Vp.fill(0);
      for (let j = 0; j < Tk; j++) {
        if (p.causal && j > i || !hb.allowed(i, j)) continue;
        const w = Math.exp(hb.add(i, j));
        for (let m = 0; m < kp; m++) {
          for (let d = 0; d < D; d++) Kp[m * D + d] += w * E[m * Tk + j] * k.data[(g * Tk + j) * D + d];
          for (let d = 0; d < Dv; d++) Vp[m * Dv + d] += w * F[m * Tk + j] * v.data[(g * Tk + j) * Dv + d];
        }
      }
      let max = -Infinity;
      for (let m = 0; m < kp; m++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d] * Kp[m * D + d];
        a[m] = dot * scale;
        max = Math.max(max, a[m]);
      }
      let sum = 0;
      for (let m = 0; m < kp; m++) sum += a[m] = Math.exp(a[m] - max);
      for (let d = 0; d < Dv; d++) {
        let o = 0;
        for (let m = 0; m < kp; m++) o += a[m] / sum * Vp[m * Dv + d];
        out[(h * Tq + r) * Dv + d] = o;
      }
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}
var linformer = {
  params: z9.object({
    variant: z9.literal("linformer"),
    ...commonParams,
    projectedLength: z9.number().int().min(1).max(65536).default(256).describe("k: the length K and V are projected to"),
    projection: z9.enum(["gaussian", "mean"]).default("gaussian").describe("E, F: seeded N(0, 1/k) entries, or means of T/k consecutive positions"),
    seed: z9.number().int().default(0).describe("seed of the 'gaussian' projections")
  }),
  doc: {
    title: "Linformer (low-rank projection)",
    summary: "Projects K and V along the sequence to k rows with fixed random matrices E, F [k, T]: attention over k mixtures, O(T\xB7k\xB7D). Causal via per-query prefix mixtures. The probe shows exact attention's map.",
    formula: "O = softmax(Q(EK)\u1D40\xB7scale)\xB7(FV), E, F \u2208 \u211D^(k\xD7T): entries N(0, 1/k), or segment means",
    references: [{ title: "Linformer: Self-Attention with Linear Complexity", year: 2020 }]
  },
  cost(s2, p, c) {
    const kp = p.projectedLength;
    const head = (s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv)) * 4 + 2 * kp * s2.Tk * 4;
    if (c?.bias) {
      const pairs = p.causal && s2.Tq === s2.Tk ? s2.Tq * (s2.Tq + 1) / 2 : s2.Tq * s2.Tk;
      return {
        flops: 2 * s2.H * pairs * (s2.D + 2 * kp + s2.Dv + 1),
        workspaceBytes: head + CHUNK2 * KEY_TILE2 * 4 * 4 + CHUNK2 * kp * 8,
        note: "with a bias: every visible tile is mixed per query"
      };
    }
    const attend = 2 * s2.H * s2.Tq * kp * (s2.D + s2.Dv);
    const project = 2 * (p.causal ? s2.H : s2.Hkv) * kp * s2.Tk * (s2.D + s2.Dv);
    const diag = p.causal ? 2 * s2.H * s2.Tq * Math.min(CHUNK2, s2.Tq) * (s2.D + 2 * kp + s2.Dv) : 0;
    return {
      flops: attend + project + diag,
      workspaceBytes: head + kp * (s2.D + s2.Dv) * 4 + Math.min(CHUNK2, s2.Tq) * (kp + CHUNK2) * 8 + (p.causal ? 0 : s2.Tq * kp * 8),
      note: `k = ${kp} projected keys and values`
    };
  },
  implicitMap: true,
  run: run2,
  reference: reference2
};

// src/nodes/attention/longformer.ts
import { z as z11 } from "zod";

// src/nodes/attention/sliding-window.ts
import { z as z10 } from "zod";
function bandPattern(window, causal) {
  const half = Math.floor(window / 2);
  return causal ? {
    keyRanges: (_h, i0, i1) => [[i0 - window + 1, i1]],
    logWeight: (_h, i, j) => i - j < window ? 0 : -Infinity,
    fullyVisible: (_h, _i0, i1, cols) => i1 - 1 - cols[0] < window
  } : {
    keyRanges: (_h, i0, i1) => [[i0 - half, i1 + half]],
    logWeight: (_h, i, j) => Math.abs(i - j) <= half ? 0 : -Infinity,
    fullyVisible: (_h, i0, i1, cols) => i1 - 1 - cols[0] <= half && cols[cols.length - 1] - i0 <= half
  };
}
var bandOptions = (_window) => ({ queryBlock: 64, keyChunk: 256 });
var slidingWindow = {
  params: z10.object({
    variant: z10.literal("sliding-window"),
    ...commonParams,
    window: z10.number().int().min(1).max(1 << 22).default(4096).describe("keys each query sees: causal \u2014 the last `window`; else \xB1window/2")
  }),
  doc: {
    title: "Sliding window (local attention)",
    summary: "Each query attends only to a band of nearby keys (Longformer/Mistral-style local attention): O(T\xB7w\xB7D) work and no T\xD7T matrix.",
    formula: "softmax over j with i \u2212 window < j \u2264 i (causal) or |i \u2212 j| \u2264 \u230Awindow/2\u230B, of q_i\xB7k_j\xB7scale + bias",
    references: [
      { title: "Longformer: The Long-Document Transformer", year: 2020 },
      { title: "Generating Long Sequences with Sparse Transformers", year: 2019 }
    ]
  },
  cost: (s2, p) => sparseCost(s2, bandPattern(p.window, p.causal), p.causal, bandOptions(p.window), true),
  run: async (ctx, ins, p, s2) => await runFused(ctx, ins, p, s2, { bands: [windowBand(p.window, p.causal)] }) ?? blockSparseAttention(ctx, ins, p, s2, bandPattern(p.window, p.causal), bandOptions(p.window)),
  reference: (ins, p, s2) => patternReference(ins, p, s2, bandPattern(p.window, p.causal)),
  probe: (p) => ({ activation: "softmax", pattern: bandPattern(p.window, p.causal) })
};

// src/nodes/attention/longformer.ts
function longformerPattern(window, globalTokens, causal, Tk) {
  const band = bandPattern(window, causal);
  const g = globalTokens;
  return {
    keyRanges: (h, i0, i1) => i0 < g ? [[0, Tk]] : [[0, g], ...band.keyRanges(h, i0, i1)],
    logWeight: (h, i, j) => i < g || j < g ? 0 : band.logWeight(h, i, j),
    fullyVisible: (h, i0, i1, cols) => i1 <= g || cols[cols.length - 1] < g || band.fullyVisible(h, i0, i1, cols)
  };
}
var pattern = (p, Tk) => longformerPattern(p.window, p.globalTokens, p.causal, Tk);
var longformer = {
  params: z11.object({
    variant: z11.literal("longformer"),
    ...commonParams,
    window: z11.number().int().min(1).max(1 << 22).default(512).describe("local window: causal \u2014 the last `window` keys; else \xB1window/2"),
    globalTokens: z11.number().int().min(0).max(1 << 22).default(1).describe("leading positions with global attention (e.g. a CLS token or the question)")
  }),
  doc: {
    title: "Longformer (global + local)",
    summary: "A sliding window plus a few global positions that attend to, and are attended by, every position (Longformer, ETC).",
    formula: "softmax over j with (j in the window of i) \u2228 i < globalTokens \u2228 j < globalTokens, of q_i\xB7k_j\xB7scale + bias",
    references: [
      { title: "Longformer: The Long-Document Transformer", year: 2020 },
      { title: "ETC: Encoding Long and Structured Inputs in Transformers", year: 2020 }
    ]
  },
  cost: (s2, p) => sparseCost(s2, pattern(p, s2.Tk), p.causal, bandOptions(p.window), true),
  run: async (ctx, ins, p, s2) => await runFused(ctx, ins, p, s2, { bands: [windowBand(p.window, p.causal, p.globalTokens)] }) ?? blockSparseAttention(ctx, ins, p, s2, pattern(p, s2.Tk), bandOptions(p.window)),
  reference: (ins, p, s2) => patternReference(ins, p, s2, pattern(p, s2.Tk)),
  probe: (p, s2) => ({ activation: "softmax", pattern: pattern(p, s2.Tk) })
};

// src/nodes/attention/naive.ts
import { z as z12 } from "zod";
var naive = {
  params: z12.object({ variant: z12.literal("naive"), ...commonParams }),
  doc: {
    title: "Naive (materialised)",
    summary: "Builds the T\xD7T score matrix of each head, adds bias and mask, softmax, then multiplies by V.",
    formula: "O = softmax(Q\xB7K\u1D40\xB7scale + B + M)\xB7V, with M = \u2212\u221E above the diagonal when causal",
    references: [{ title: "Attention Is All You Need", year: 2017 }]
  },
  cost: (s2, p) => ({
    flops: exactFlops(s2, p.causal),
    // The score matrix and its additive mask, one head at a time.
    workspaceBytes: 2 * s2.Tq * s2.Tk * 4 + (s2.Tq + 2 * s2.Tk) * s2.D * 4,
    bytesMoved: 4 * (s2.H * s2.Tq * s2.D * 2 + s2.Hkv * s2.Tk * (s2.D + s2.Dv) + s2.H * s2.Tq * s2.Tk * 2),
    note: `scores ${s2.Tq}\xD7${s2.Tk} f32 and their mask per head`
  }),
  async run(ctx, { q, k, v, bias }, p, s2) {
    const { tf: tf3 } = ctx;
    const scale = scaleOf(p, s2.D);
    const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
    const needMask = p.causal || (bias?.terms.length ?? 0) > 0;
    const maskBuf = needMask ? new Float32Array(s2.Tq * s2.Tk) : void 0;
    if (maskBuf) ctx.track(maskBuf.byteLength);
    for (let h = 0; h < s2.H; h++) {
      ctx.checkCancelled();
      const g = Math.floor(h / (s2.H / s2.Hkv));
      if (maskBuf) fillBiasTile(headBias(bias, h), p.causal, s2.Tk - s2.Tq, s2.Tq, 0, s2.Tk, maskBuf);
      const scores = tf3.tidy(() => {
        const qh = tf3.tensor2d(headView(q, h), [s2.Tq, s2.D]);
        const kT = tf3.transpose(tf3.tensor2d(headView(k, g), [s2.Tk, s2.D]));
        const raw = tf3.mul(tf3.matMul(qh, kT), scale);
        return maskBuf ? tf3.add(raw, tf3.tensor2d(maskBuf.slice(), [s2.Tq, s2.Tk])) : raw;
      });
      let probs;
      let o;
      try {
        ctx.checkCancelled();
        probs = tf3.softmax(scores);
        scores.dispose();
        ctx.checkCancelled();
        o = tf3.tidy(() => tf3.matMul(probs, tf3.tensor2d(headView(v, g), [s2.Tk, s2.Dv])));
      } finally {
        scores.dispose();
        probs?.dispose();
      }
      ctx.checkCancelled();
      out.set(await o.data(), h * s2.Tq * s2.Dv);
      o.dispose();
      ctx.progress((h + 1) / s2.H);
    }
    if (maskBuf) ctx.release(maskBuf.byteLength);
    return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias })
};

// src/nodes/kv-cache/paged-attention.ts
import { z as z13 } from "zod";
var params = z13.object({
  variant: z13.literal("paged"),
  ...commonParams,
  blockSize: z13.number().int().min(1).max(128).default(16).describe("tokens per block when k/v are paged here (no cache connected)"),
  sequence: z13.number().int().min(0).default(0).describe("which sequence of the cache to read (its block table)")
});
var TILE_KEYS = 256;
function pagedSource({ q, k, v, cache }, p) {
  if (cache) {
    const pg = cache.paged;
    if (!pg) throw new ShapeError("cache", 'paged attention reads K/V through a block table, and this cache has none: use the kv-cache variant "paged"');
    const table = pg.blockTables[p.sequence];
    if (!table) throw new ShapeError("cache", `sequence ${p.sequence} is out of range: the cache holds ${pg.blockTables.length} sequence(s)`);
    const len = pg.lengths[p.sequence];
    const [N, Hkv, B2, D] = pg.keyBlocks.shape;
    const H = q.shape.at(-3);
    if (B2 !== pg.blockSize) throw new ShapeError("cache", `keyBlocks hold ${B2} tokens per block but blockSize is ${pg.blockSize}`);
    if (table.length * B2 < len) throw new ShapeError("cache", `the block table of sequence ${p.sequence} covers ${table.length * B2} tokens, fewer than its length ${len}`);
    if (table.some((b) => b < 0 || b >= N)) throw new ShapeError("cache", `the block table of sequence ${p.sequence} names a block outside 0..${N - 1}`);
    if (D !== q.shape.at(-1)) throw new ShapeError("cache", `the cache's head dim ${D} does not match q's ${q.shape.at(-1)}`);
    if (H % Hkv !== 0) throw new ShapeError("cache", `grouped-query attention: the cache's ${Hkv} kv heads must divide q's ${H} heads`);
    return { blockSize: B2, keyBlocks: pg.keyBlocks, valueBlocks: pg.valueBlocks, table, len };
  }
  const B = p.blockSize;
  const [, T] = k.shape.slice(-3);
  const n = Math.ceil(T / B);
  return { blockSize: B, keyBlocks: toBlocks(k, B), valueBlocks: toBlocks(v, B), table: Array.from({ length: n }, (_, i) => i), len: T };
}
function toBlocks(t, B) {
  const [Hkv, T, D] = t.shape.slice(-3);
  const n = Math.ceil(T / B);
  const out = new Float32Array(n * Hkv * B * D);
  for (let h = 0; h < Hkv; h++)
    for (let tok = 0; tok < T; tok++)
      out.set(t.data.subarray((h * T + tok) * D, (h * T + tok + 1) * D), ((Math.floor(tok / B) * Hkv + h) * B + tok % B) * D);
  return f32([n, Hkv, B, D], out, ["N", "Hkv", "B", "D"]);
}
function gatherContiguous(blocks, table, len) {
  const [, Hkv, B, D] = blocks.shape;
  const out = new Float32Array(Hkv * len * D);
  for (let h = 0; h < Hkv; h++)
    for (let t = 0; t < len; t++) {
      const src = ((table[Math.floor(t / B)] * Hkv + h) * B + t % B) * D;
      for (let d = 0; d < D; d++) out[(h * len + t) * D + d] = blocks.data[src + d];
    }
  return f32([Hkv, len, D], out, ["Hkv", "T", "D"]);
}
var paged = {
  params,
  doc: {
    title: "PagedAttention (block table)",
    summary: "Exact attention over K/V stored in fixed-size blocks, read through a sequence's block table (the kv-cache \"paged\" variant's `cache`); equals attention over the contiguous kept K/V.",
    formula: "K_j = keyBlocks[table[\u230Aj/B\u230B], :, j mod B]; O = softmax(Q\xB7K\u1D40\xB7scale + B + M)\xB7V, merged tile by tile with an online softmax",
    references: [{ title: "Efficient Memory Management for Large Language Model Serving with PagedAttention", year: 2023 }]
  },
  cost(s2, p) {
    const w = Math.max(p.blockSize, Math.floor(TILE_KEYS / p.blockSize) * p.blockSize);
    return {
      flops: exactFlops(s2, p.causal),
      // Score tile, its exponentials and mask; one gathered tile of K/V; the running (m, ℓ, O); one
      // kv head's blocks on the backend.
      workspaceBytes: 3 * s2.Tq * w * 4 + w * (s2.D + s2.Dv) * 4 + s2.Tq * (s2.Dv + 2) * 4 * 2 + s2.Tk * (s2.D + s2.Dv) * 4,
      bytesMoved: 4 * (2 * s2.H * s2.Tq * (s2.D + s2.Dv) + s2.H * s2.Tk * (s2.D + s2.Dv)),
      note: `tiles of ${w} keys gathered through the block table`
    };
  },
  async run(ctx, ins, p, s2) {
    const { tf: tf3 } = ctx;
    const src = pagedSource(ins, p);
    if (ctx.backend === "wasm") {
      const k = gatherContiguous(src.keyBlocks, src.table, src.len);
      const v = gatherContiguous(src.valueBlocks, src.table, src.len);
      const [Hkv2, , D2] = k.shape;
      const fused = await runFused(ctx, { q: ins.q, k, v, bias: ins.bias }, p, { ...s2, Hkv: Hkv2, Tk: src.len, D: D2, Dv: v.shape[2] });
      if (fused) return fused;
    }
    const { q, bias } = ins;
    const B = src.blockSize;
    const [N, Hkv, , D] = src.keyBlocks.shape;
    const Dv = src.valueBlocks.shape[3];
    const { H, Tq } = s2;
    const len = src.len;
    const scale = scaleOf(p, D);
    const offset = len - Tq;
    const perTile = Math.max(1, Math.floor(TILE_KEYS / B));
    const out = new Float32Array(H * Tq * Dv);
    const tileBuf = new Float32Array(Tq * perTile * B);
    ctx.track(tileBuf.byteLength);
    const kAll = tf3.tensor4d(src.keyBlocks.data, [N, Hkv, B, D]);
    const vAll = tf3.tensor4d(src.valueBlocks.data, [N, Hkv, B, Dv]);
    const tables = [];
    for (let i0 = 0; i0 * B < len; i0 += perTile) tables.push(tf3.tensor1d(src.table.slice(i0, i0 + perTile), "int32"));
    let kg;
    let vg;
    let loaded = -1;
    try {
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        if (g !== loaded) {
          tf3.dispose([kg, vg].filter(Boolean));
          kg = tf3.tidy(() => tf3.reshape(tf3.slice(kAll, [0, g, 0, 0], [N, 1, B, D]), [N, B, D]));
          vg = tf3.tidy(() => tf3.reshape(tf3.slice(vAll, [0, g, 0, 0], [N, 1, B, Dv]), [N, B, Dv]));
          loaded = g;
        }
        const hb = headBias(bias, h);
        const hasBias = (bias?.terms.length ?? 0) > 0;
        const qh = tf3.tidy(() => tf3.mul(tf3.tensor2d(headView(q, h), [Tq, D]), scale));
        let m = tf3.fill([Tq, 1], -1e30);
        let l = tf3.zeros([Tq, 1]);
        let acc = tf3.zeros([Tq, Dv]);
        for (let ti = 0; ti < tables.length; ti++) {
          ctx.checkCancelled();
          const c0 = ti * perTile * B;
          if (p.causal && c0 > offset + Tq - 1) break;
          const cols = Math.min(perTile * B, len - c0);
          let mask;
          if (hasBias || p.causal && c0 + cols - 1 > offset) {
            const view = tileBuf.subarray(0, Tq * cols);
            if (!fillBiasTile(hb, p.causal, offset, Tq, c0, cols, view)) continue;
            mask = tf3.tensor2d(view, [Tq, cols]);
          }
          const next = tf3.tidy(() => {
            const idx = tables[ti];
            const n = idx.shape[0];
            const kt = tf3.slice(tf3.reshape(tf3.gather(kg, idx), [n * B, D]), [0, 0], [cols, D]);
            const vt = tf3.slice(tf3.reshape(tf3.gather(vg, idx), [n * B, Dv]), [0, 0], [cols, Dv]);
            let sc = tf3.matMul(qh, kt, false, true);
            if (mask) sc = tf3.add(sc, mask);
            const mNew = tf3.maximum(m, tf3.max(sc, 1, true));
            const pr = tf3.exp(tf3.sub(sc, mNew));
            const corr = tf3.exp(tf3.sub(m, mNew));
            return [mNew, tf3.add(tf3.mul(l, corr), tf3.sum(pr, 1, true)), tf3.add(tf3.mul(acc, corr), tf3.matMul(pr, vt))];
          });
          mask?.dispose();
          tf3.dispose([m, l, acc]);
          [m, l, acc] = next;
        }
        const o = tf3.tidy(() => tf3.div(acc, tf3.maximum(l, 1e-30)));
        out.set(await o.data(), h * Tq * Dv);
        tf3.dispose([o, m, l, acc, qh]);
        ctx.progress((h + 1) / H);
      }
    } finally {
      tf3.dispose([kAll, vAll, ...tables, ...[kg, vg].filter(Boolean)]);
      ctx.release(tileBuf.byteLength);
    }
    return f32([H, Tq, Dv], out, ["H", "T", "D"]);
  },
  reference(ins, p) {
    const src = pagedSource(ins, p);
    const k = gatherContiguous(src.keyBlocks, src.table, src.len);
    const v = gatherContiguous(src.valueBlocks, src.table, src.len);
    return naiveAttentionReference(ins.q, k, v, { causal: p.causal, scale: p.scale, bias: ins.bias });
  }
};

// src/nodes/attention/probe.ts
var PROBE_MAX = 256;
var exactProbe = { activation: "softmax" };
var probeShape = (s2) => [
  s2.H,
  Math.min(PROBE_MAX, s2.Tq),
  Math.min(PROBE_MAX, s2.Tk)
];
function bins(T, P) {
  const of = new Int32Array(T);
  const count = new Int32Array(P);
  for (let t = 0; t < T; t++) count[of[t] = Math.floor(t * P / T)]++;
  return { of, count };
}
var QUERY_BLOCK2 = 64;
var KEY_CHUNK = 256;
async function attentionProbe(ctx, { q, k, bias }, p, s2, spec) {
  const { tf: tf3 } = ctx;
  const [, Pq, Pk] = probeShape(s2);
  const rb = bins(s2.Tq, Pq);
  const cb = bins(s2.Tk, Pk);
  const probe = new Float32Array(s2.H * Pq * Pk);
  const pattern2 = spec.pattern ?? densePattern(s2.Tk);
  const scale = scaleOf(p, s2.D);
  const tile = new Float32Array(QUERY_BLOCK2 * KEY_CHUNK);
  const hasBias = (bias?.terms.length ?? 0) > 0;
  for (let h = 0; h < s2.H; h++) {
    const hb = headBias(bias, h);
    const kh = tf3.tensor2d(headView(k, groupOf(h, s2)), [s2.Tk, s2.D]);
    const qh = tf3.tidy(() => tf3.mul(tf3.tensor2d(headView(q, h), [s2.Tq, s2.D]), scale));
    for (const { r0, rows, i0 } of queryBlocks(s2, QUERY_BLOCK2)) {
      ctx.checkCancelled();
      const qt = tf3.slice(qh, [r0, 0], [rows, s2.D]);
      const tiles = [];
      const count = new Float32Array(rows);
      for (const cols of keyChunks(pattern2, h, i0, i0 + rows, p.causal, s2.Tk, KEY_CHUNK)) {
        if (unmaskedTile(pattern2, hasBias, p.causal, h, i0, rows, cols)) {
          count.forEach((c, r) => count[r] = c + cols.length);
          tiles.push({ cols });
          continue;
        }
        const view = tile.subarray(0, rows * cols.length);
        if (!fillPatternTile(hb, p.causal, pattern2, h, i0, rows, cols, view)) continue;
        if (spec.activation === "relu") {
          for (let e = 0; e < view.length; e++) if (view[e] !== -Infinity) count[Math.floor(e / cols.length)]++;
        }
        tiles.push({ cols, mask: tf3.tensor2d(view.slice(), [rows, cols.length]) });
      }
      const scores = (t) => {
        const sc = tf3.matMul(qt, takeRows(tf3, kh, t.cols), false, true);
        return t.mask ? tf3.add(sc, t.mask) : sc;
      };
      let rowTerm;
      if (spec.activation === "softmax") {
        let m = tf3.fill([rows, 1], -1e30);
        let l = tf3.zeros([rows, 1]);
        for (const t of tiles) {
          const next = tf3.tidy(() => {
            const sc = scores(t);
            const mNew = tf3.maximum(m, tf3.max(sc, 1, true));
            return [mNew, tf3.add(tf3.mul(l, tf3.exp(tf3.sub(m, mNew))), tf3.sum(tf3.exp(tf3.sub(sc, mNew)), 1, true))];
          });
          tf3.dispose([m, l]);
          [m, l] = next;
        }
        rowTerm = tf3.tidy(() => tf3.add(m, tf3.log(tf3.maximum(l, 1e-30))));
        tf3.dispose([m, l]);
      } else {
        rowTerm = tf3.tensor2d(count.map((c) => c > 0 ? 1 / c : 0), [rows, 1]);
      }
      const a0 = rb.of[r0];
      const nbr = rb.of[r0 + rows - 1] - a0 + 1;
      const R = new Float32Array(nbr * rows);
      for (let r = 0; r < rows; r++) R[(rb.of[r0 + r] - a0) * rows + r] = 1 / rb.count[rb.of[r0 + r]];
      if (tiles.length) {
        const pooled = tf3.tidy(() => {
          const Rt = tf3.tensor2d(R, [nbr, rows]);
          const parts = tiles.map((t) => {
            const sc = scores(t);
            const w = spec.activation === "softmax" ? tf3.exp(tf3.sub(sc, rowTerm)) : tf3.mul(tf3.relu(sc), rowTerm);
            return tf3.matMul(Rt, w);
          });
          return parts.length === 1 ? parts[0] : tf3.concat(parts, 1);
        });
        const data = await pooled.data();
        pooled.dispose();
        const width = data.length / nbr;
        let c0 = 0;
        for (const t of tiles) {
          for (let a = 0; a < nbr; a++) {
            const row = (h * Pq + a0 + a) * Pk;
            for (let c = 0; c < t.cols.length; c++) {
              const b = cb.of[t.cols[c]];
              probe[row + b] += data[a * width + c0 + c] / cb.count[b];
            }
          }
          c0 += t.cols.length;
        }
      }
      tf3.dispose([rowTerm, qt, ...tiles.flatMap((t) => t.mask ? [t.mask] : [])]);
    }
    tf3.dispose([kh, qh]);
  }
  return f32([s2.H, Pq, Pk], probe, ["H", "P", "P"]);
}
function attentionProbeReference({ q, k, bias }, p, s2, spec) {
  const { H, Tq, Tk, D } = s2;
  const [, Pq, Pk] = probeShape(s2);
  const rb = bins(Tq, Pq);
  const cb = bins(Tk, Pk);
  const pattern2 = spec.pattern ?? densePattern(Tk);
  const scale = scaleOf(p, D);
  const probe = new Float64Array(H * Pq * Pk);
  const sc = new Float64Array(Tk);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const { max, visible } = patternRowScores(q, k, s2, h, g, r, scale, hb, pattern2, p.causal, sc);
      let sum = 0;
      for (let j = 0; j < Tk; j++) {
        const x = sc[j];
        sc[j] = x === -Infinity ? 0 : spec.activation === "softmax" ? Math.exp(x - max) : Math.max(0, x);
        sum += sc[j];
      }
      const norm = spec.activation === "softmax" ? sum : visible;
      if (!(norm > 0)) continue;
      const a = rb.of[r];
      for (let j = 0; j < Tk; j++) {
        const b = cb.of[j];
        probe[(h * Pq + a) * Pk + b] += sc[j] / norm / (rb.count[a] * cb.count[b]);
      }
    }
  }
  return f32([H, Pq, Pk], Float32Array.from(probe), ["H", "P", "P"]);
}

// src/nodes/attention/relu.ts
import { z as z14 } from "zod";
var QUERY_BLOCK3 = 128;
var KEY_TILE3 = 256;
async function run3(ctx, { q, k, v, bias }, p, s2) {
  const { tf: tf3 } = ctx;
  const scale = scaleOf(p, s2.D);
  const off = s2.Tk - s2.Tq;
  const out = new Float32Array(s2.H * s2.Tq * s2.Dv);
  const hasBias = (bias?.terms.length ?? 0) > 0;
  const tileBuf = new Float32Array(QUERY_BLOCK3 * KEY_TILE3);
  const count = new Float32Array(QUERY_BLOCK3);
  ctx.track(tileBuf.byteLength);
  for (let h = 0; h < s2.H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    const [qh, kh, vh] = uploadHead(tf3, q, k, v, h, g, scale, s2);
    const parts = [];
    for (let r0 = 0; r0 < s2.Tq; r0 += QUERY_BLOCK3) {
      const rows = Math.min(QUERY_BLOCK3, s2.Tq - r0);
      const qt = tf3.slice(qh, [r0, 0], [rows, s2.D]);
      let num = tf3.zeros([rows, s2.Dv]);
      for (let r = 0; r < rows; r++) count[r] = hasBias ? 0 : p.causal ? off + r0 + r + 1 : s2.Tk;
      const colEnd = p.causal ? off + r0 + rows : s2.Tk;
      for (let c0 = 0; c0 < colEnd; c0 += KEY_TILE3) {
        ctx.checkCancelled();
        const cols = Math.min(KEY_TILE3, colEnd - c0);
        const view = tileBuf.subarray(0, rows * cols);
        const masked = hasBias || p.causal && c0 + cols - 1 > off + r0;
        if (masked) {
          if (!fillBiasTile(hb, p.causal, off + r0, rows, c0, cols, view)) continue;
          if (hasBias) {
            for (let e = 0; e < view.length; e++) if (view[e] !== -Infinity) count[Math.floor(e / cols)]++;
          }
        }
        const next = tf3.tidy(() => {
          let sc = tf3.matMul(qt, tf3.slice(kh, [c0, 0], [cols, s2.D]), false, true);
          if (masked) sc = tf3.add(sc, tf3.tensor2d(view, [rows, cols]));
          return tf3.add(num, tf3.matMul(tf3.relu(sc), tf3.slice(vh, [c0, 0], [cols, s2.Dv])));
        });
        num.dispose();
        num = next;
      }
      parts.push(tf3.tidy(() => tf3.mul(num, tf3.tensor2d(count.slice(0, rows).map((c) => c > 0 ? 1 / c : 0), [rows, 1]))));
      tf3.dispose([num, qt]);
    }
    const o = parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
    out.set(await o.data(), h * s2.Tq * s2.Dv);
    tf3.dispose([o, ...parts, qh, kh, vh]);
    ctx.progress((h + 1) / s2.H);
  }
  ctx.release(tileBuf.byteLength);
  return f32([s2.H, s2.Tq, s2.Dv], out, ["H", "T", "D"]);
}
function reference3({ q, k, v, bias }, p, s2) {
  const { H, Tq, Tk, D, Dv } = s2;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  const acc = new Float64Array(Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s2);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      acc.fill(0);
      let n = 0;
      for (let j = 0; j < Tk; j++) {
        if (p.causal && j > i || !hb.allowed(i, j)) continue;
        n++;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d] * k.data[(g * Tk + j) * D + d];
        const w = Math.max(0, dot * scale + hb.add(i, j));
        for (let d = 0; d < Dv; d++) acc[d] += w * v.data[(g * Tk + j) * Dv + d];
      }
      for (let d = 0; d < Dv; d++) out[(h * Tq + r) * Dv + d] = n > 0 ? acc[d] / n : 0;
    }
  }
  return f32([H, Tq, Dv], out, ["H", "T", "D"]);
}
var relu = {
  params: z14.object({ variant: z14.literal("relu"), ...commonParams }),
  doc: {
    title: "ReLU attention",
    summary: "Softmax replaced by a ReLU of the scores, divided by the number of keys each query sees; quadratic like softmax, without the exponentials and the row max. The probe shows its own map.",
    formula: "O_i = \u03A3_j relu(q_i\xB7k_j\xB7scale + b_ij)\xB7v_j / n_i, n_i = number of keys query i sees",
    references: [
      { title: "Replacing softmax with ReLU in Vision Transformers", year: 2023 },
      { title: "A Study on ReLU and Softmax in Transformer", year: 2023 }
    ]
  },
  cost: (s2, p) => ({
    flops: exactFlops(s2, p.causal),
    workspaceBytes: 2 * QUERY_BLOCK3 * KEY_TILE3 * 4 + QUERY_BLOCK3 * s2.Dv * 8 + (s2.Tq * s2.D + s2.Tk * (s2.D + s2.Dv)) * 4,
    bytesMoved: 4 * (s2.H * s2.Tq * (s2.D + s2.Dv) + s2.H * s2.Tk * (s2.D + s2.Dv) * Math.ceil(s2.Tq / QUERY_BLOCK3)),
    note: `${QUERY_BLOCK3}\xD7${KEY_TILE3} score tiles`
  }),
  run: run3,
  reference: reference3,
  probe: () => ({ activation: "relu" })
};

// src/nodes/attention/sima.ts
import { z as z15 } from "zod";
var featureMap3 = {
  queries: (tf3, q) => tf3.divNoNan(q, tf3.sum(tf3.abs(q), 1, true)),
  keys: (tf3, k) => tf3.divNoNan(k, tf3.sum(tf3.abs(k), 1, true)),
  normalize: false
};
function l1Row(x, r, D) {
  const out = new Float64Array(D);
  let n = 0;
  for (let d = 0; d < D; d++) n += Math.abs(x[r * D + d]);
  if (n > 0) for (let d = 0; d < D; d++) out[d] = x[r * D + d] / n;
  return out;
}
var sima = {
  params: z15.object({ variant: z15.literal("sima"), ...commonParams }),
  doc: {
    title: "SimA (\u21131-normalised, softmax-free)",
    summary: "Normalises q and k by their \u21131 norms and drops softmax: O = Q\u0302(K\u0302\u1D40V) in linear time, no normalisation of the weights. The probe shows exact attention's map.",
    formula: "q\u0302 = q/\u2016q\u2016\u2081, k\u0302 = k/\u2016k\u2016\u2081; O_i = q\u0302_i\xB7\u03A3_j k\u0302_j v_j\u1D40 (j \u2264 i when causal)",
    references: [{ title: "SimA: Simple Softmax-free Attention for Vision Transformers", year: 2022 }]
  },
  cost: (s2, p, c) => featureCost(s2, p.causal, s2.D, 3 * (s2.H * s2.Tq + s2.Hkv * s2.Tk) * s2.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s2) => featureAttention(ctx, ins, p, s2, featureMap3),
  reference({ q, k, v, bias }, p, s2) {
    const off = s2.Tk - s2.Tq;
    const kappa = (h, i, j) => {
      const a = l1Row(q.data, h * s2.Tq + i - off, s2.D);
      const b = l1Row(k.data, groupOf(h, s2) * s2.Tk + j, s2.D);
      return a.reduce((acc, x, d) => acc + x * b[d], 0);
    };
    return kernelReference({ v, bias }, p, s2, kappa, false);
  }
};

// src/nodes/attention/soft.ts
import { z as z16 } from "zod";
function gaussian2(tf3, x, y) {
  const d2 = tf3.sub(tf3.add(tf3.sum(tf3.square(x), 1, true), tf3.reshape(tf3.sum(tf3.square(y), 1), [1, -1])), tf3.mul(tf3.matMul(x, y, false, true), 2));
  return tf3.exp(tf3.mul(tf3.maximum(d2, 0), -0.5));
}
var segment = (b, T, m) => [Math.floor(b * T / m), Math.floor((b + 1) * T / m)];
function poolMatrix(T, m) {
  const R = new Float32Array(m * T);
  for (let b = 0; b < m; b++) {
    const [a, e] = segment(b, T, m);
    for (let t = a; t < e; t++) R[b * T + t] = 1 / (e - a);
  }
  return R;
}
function pinvOf(tf3, P, iterations) {
  return tf3.tidy(() => {
    let V = tf3.div(P, tf3.square(tf3.max(tf3.sum(P, 1))));
    for (let t = 0; t < iterations; t++) V = tf3.sub(tf3.mul(V, 2), tf3.matMul(tf3.matMul(V, P), V));
    return V;
  });
}
function visibleLandmarks(i, Tk, m) {
  let n = 0;
  while (n < m && segment(n, Tk, m)[1] <= i + 1) n++;
  return n;
}
function featureMap4(p, s2) {
  const m = Math.min(p.landmarks, s2.Tk);
  const off = s2.Tk - s2.Tq;
  const kept = /* @__PURE__ */ new Map();
  const free = (g) => {
    const e = kept.get(g);
    if (!e) return;
    e.L.dispose();
    for (const t of e.pinv.values()) t.dispose();
    kept.delete(g);
  };
  return {
    keys(tf3, k, g) {
      const L = tf3.matMul(tf3.tensor2d(poolMatrix(s2.Tk, m), [m, s2.Tk]), k);
      const P = gaussian2(tf3, L, L);
      const pinv = /* @__PURE__ */ new Map();
      if (!p.causal) pinv.set(m, tf3.keep(pinvOf(tf3, P, p.pinvIterations)));
      else {
        for (let n = Math.max(1, visibleLandmarks(off, s2.Tk, m)); n <= m; n++)
          pinv.set(n, tf3.keep(pinvOf(tf3, tf3.slice(P, [0, 0], [n, n]), p.pinvIterations)));
      }
      free(g);
      kept.set(g, { L: tf3.keep(L), pinv });
      return gaussian2(tf3, k, L);
    },
    queries(tf3, q, h) {
      const { L, pinv } = kept.get(groupOf(h, s2));
      if (!p.causal) return tf3.matMul(gaussian2(tf3, q, L), pinv.get(m));
      const parts = [];
      for (let r0 = 0; r0 < s2.Tq; ) {
        const n = visibleLandmarks(off + r0, s2.Tk, m);
        let r1 = r0 + 1;
        while (r1 < s2.Tq && visibleLandmarks(off + r1, s2.Tk, m) === n) r1++;
        const rows = r1 - r0;
        if (n === 0) parts.push(tf3.zeros([rows, m]));
        else {
          const f = tf3.matMul(gaussian2(tf3, tf3.slice(q, [r0, 0], [rows, s2.D]), tf3.slice(L, [0, 0], [n, s2.D])), pinv.get(n));
          parts.push(n === m ? f : tf3.pad(f, [[0, 0], [0, m - n]]));
        }
        r0 = r1;
      }
      return parts.length === 1 ? parts[0] : tf3.concat(parts, 0);
    },
    normalize: p.normalize,
    dispose() {
      for (const g of [...kept.keys()]) free(g);
    }
  };
}
var kernel2 = (x, xo, c, y, yo, D) => {
  let d2 = 0;
  for (let d = 0; d < D; d++) d2 += (c * x[xo + d] - y[yo + d]) ** 2;
  return Math.exp(-d2 / 2);
};
function matmul(a, b, n, k, m) {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) for (let j = 0; j < m; j++) out[i * m + j] += a[i * k + t] * b[t * m + j];
  return out;
}
function newtonSchulzPinv(P, m, iterations) {
  let maxRow = 0;
  for (let i = 0; i < m; i++) maxRow = Math.max(maxRow, P.subarray(i * m, (i + 1) * m).reduce((a, b) => a + Math.abs(b), 0));
  let V = P.map((x) => x / (maxRow * maxRow));
  for (let t = 0; t < iterations; t++) {
    const VPV = matmul(matmul(V, P, m, m, m), V, m, m, m);
    V = V.map((x, e) => 2 * x - VPV[e]);
  }
  return V;
}
function nystromReference(q, k, p, s2) {
  const c = Math.sqrt(scaleOf(p, s2.D));
  const m = Math.min(p.landmarks, s2.Tk);
  const { D, Tq, Tk } = s2;
  const perGroup = Array.from({ length: s2.Hkv }, (_, g) => {
    const kg = headView(k, g);
    const L = new Float64Array(m * D);
    for (let b = 0; b < m; b++) {
      const [a, e] = segment(b, Tk, m);
      for (let t = a; t < e; t++) for (let d = 0; d < D; d++) L[b * D + d] += c * kg[t * D + d] / (e - a);
    }
    const P = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) P[a * m + b] = kernel2(L, a * D, 1, L, b * D, D);
    const B = new Float64Array(Tk * m);
    for (let j = 0; j < Tk; j++) for (let b = 0; b < m; b++) B[j * m + b] = kernel2(kg, j * D, c, L, b * D, D);
    const pinv = /* @__PURE__ */ new Map();
    for (let n = p.causal ? 1 : m; n <= m; n++) {
      const Pn = new Float64Array(n * n);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) Pn[a * n + b] = P[a * m + b];
      pinv.set(n, newtonSchulzPinv(Pn, n, p.pinvIterations));
    }
    return { L, pinv, B };
  });
  const off = Tk - Tq;
  const A = Array.from({ length: s2.H }, (_, h) => {
    const { L, pinv } = perGroup[groupOf(h, s2)];
    const qh = headView(q, h);
    const out = new Float64Array(Tq * m);
    for (let i = 0; i < Tq; i++) {
      const n = p.causal ? visibleLandmarks(off + i, Tk, m) : m;
      if (n === 0) continue;
      const kql = new Float64Array(n);
      for (let b = 0; b < n; b++) kql[b] = kernel2(qh, i * D, c, L, b * D, D);
      out.set(matmul(kql, pinv.get(n), 1, n, n), i * m);
    }
    return out;
  });
  return { m, A, B: perGroup.map((x) => x.B) };
}
var soft = {
  params: z16.object({
    variant: z16.literal("soft"),
    ...commonParams,
    landmarks: z16.number().int().min(1).max(4096).default(64).describe("Nystr\xF6m landmarks m (segment means of the keys)"),
    pinvIterations: z16.number().int().min(0).max(100).default(20).describe("Newton\u2013Schulz iterations for \u03BA(L, L)\u207A"),
    normalize: z16.boolean().default(false).describe("divide by the approximated row sums (SOFT as published: no)")
  }),
  doc: {
    title: "SOFT (Gaussian kernel, Nystr\xF6m)",
    summary: "Softmax-free attention with a Gaussian kernel, approximated by Nystr\xF6m over m landmarks with a Newton\u2013Schulz pseudo-inverse: O(T\xB7m\xB7D). Causal: each query uses only the landmarks of key segments it sees whole. The probe shows exact attention's map.",
    formula: "S \u2248 \u03BA(Q, L)\xB7\u03BA(L, L)\u207A\xB7\u03BA(L, K), \u03BA(x, y) = exp(\u2212\u2016x \u2212 y\u2016\xB2\xB7scale/2); O = S\xB7V (\xF7 S\xB71 when normalize)",
    references: [{ title: "SOFT: Softmax-free Transformer with Linear Complexity", year: 2021 }]
  },
  cost(s2, p, c) {
    const m = Math.min(p.landmarks, s2.Tk);
    const pinv = p.causal ? p.pinvIterations * m ** 2 * (m + 1) ** 2 : 4 * p.pinvIterations * m ** 3;
    const features2 = s2.Hkv * (2 * m * s2.Tk * s2.D + 2 * m * m * s2.D + pinv + 2 * s2.Tk * m * s2.D) + s2.H * (2 * s2.Tq * m * (s2.D + m));
    return featureCost(s2, p.causal, m, features2, c);
  },
  implicitMap: true,
  run: (ctx, ins, p, s2) => featureAttention(ctx, ins, p, s2, featureMap4(p, s2)),
  reference({ q, k, v, bias }, p, s2) {
    const { m, A, B } = nystromReference(q, k, p, s2);
    const off = s2.Tk - s2.Tq;
    const kappa = (h, i, j) => {
      const a = A[h];
      const b = B[groupOf(h, s2)];
      let x = 0;
      for (let t = 0; t < m; t++) x += a[(i - off) * m + t] * b[j * m + t];
      return x;
    };
    return kernelReference({ v, bias }, p, s2, kappa, p.normalize);
  }
};

// src/nodes/attention/index.ts
var variants = [
  naive,
  flash,
  flashDecoding,
  slidingWindow,
  longformer,
  dilated,
  bigbird,
  linformer,
  linear,
  cosformer,
  relu,
  sima,
  soft,
  paged
];
var family = variantFamily(variants);
var { byName, params: params2 } = family;
var implicit = variants.filter((v) => v.implicitMap).map(variantName);
function heads(ins) {
  return { ...ins, q: squeezeBatch(ins.q, 3), k: squeezeBatch(ins.k, 3), v: squeezeBatch(ins.v, 3) };
}
var attention = defineNode({
  type: "attention",
  family: "attention",
  title: "Attention",
  summary: "Scaled dot-product attention over [H, T, D] tensors, with grouped-query K/V and structured bias; one variant per kernel.",
  references: family.references,
  params: params2,
  variants: family.docs,
  inputs: {
    q: { kind: "tensor", dims: ["H", "T", "D"], doc: "queries (with fewer queries than keys, the last positions)" },
    k: { kind: "tensor", dims: ["Hkv", "T", "D"], doc: "keys (Hkv divides H: grouped-query)" },
    v: { kind: "tensor", dims: ["Hkv", "T", "D"], doc: "values" },
    bias: { kind: "bias", optional: true, doc: "structured bias: ALiBi slopes, segment and streaming masks" },
    cache: { kind: "kv", optional: true, doc: "a KV cache, for variants that read K/V through its block table (paged)" }
  },
  outputs: {
    out: { kind: "tensor", dims: ["H", "T", "D"] },
    probe: {
      kind: "tensor",
      optional: true,
      dims: ["H", "P", "P"],
      doc: `attention map average-pooled to at most ${PROBE_MAX}\xD7${PROBE_MAX} per head (computed only when connected): the variant's own weights, except ${implicit.join(", ")}, whose map is implicit: they show exact softmax attention's`
    }
  },
  infer(ins) {
    const s2 = inferAttention(ins);
    return {
      out: tensorShape("float32", [s2.H, s2.Tq, s2.Dv], ["H", "T", "D"]),
      probe: tensorShape("float32", probeShape(s2), ["H", "P", "P"])
    };
  },
  cost(ins, p) {
    return byName.get(p.variant).cost(inferAttention(ins), p, { bias: ins.bias !== void 0 });
  },
  async run(ctx, raw, p) {
    const ins = heads(raw);
    const variant = byName.get(p.variant);
    const s2 = attentionDims(ins.q, ins.k, ins.v);
    const out = await variant.run(ctx, ins, p, s2);
    if (!ctx.isConnected("probe")) return { out };
    const probe = await attentionProbe(ctx, ins, p, s2, variant.probe?.(p, s2) ?? exactProbe);
    return { out, probe };
  },
  reference(raw, p) {
    const ins = heads(raw);
    const variant = byName.get(p.variant);
    const s2 = attentionDims(ins.q, ins.k, ins.v);
    return {
      out: variant.reference(ins, p, s2),
      probe: attentionProbeReference(ins, p, s2, variant.probe?.(p, s2) ?? exactProbe)
    };
  }
});

// src/nodes/position/alibi.ts
import { z as z18 } from "zod";

// src/nodes/position/common.ts
import { z as z17 } from "zod";
var MAX_LEN = 1 << 24;
var commonParams2 = {
  base: z17.number().gt(1).max(1e12).default(1e4).describe("RoPE base \u03B8 (rope_theta); the sinusoidal table uses it too"),
  positionOffset: z17.number().int().min(0).max(2 ** 30).default(0).describe("k's positions are offset..offset+Tk\u22121 (q's the last Tq of them) when the `positions` input is not connected (ignored when it is)"),
  layout: z17.enum(["half", "interleaved"]).default("half").describe('"half": HF Llama rotate_half (pairs d, d+D/2); "interleaved": GPT-J / RoFormer pairs (2i, 2i+1)'),
  rotaryDims: z17.number().int().min(2).max(MAX_LEN).multipleOf(2).optional().describe("rotate only the first rotaryDims channels of each head, pass the rest through (GPT-NeoX rotary_pct, HF partial_rotary_factor); default all D"),
  fromConfig: z17.string().min(1).optional().describe("an HF config.json, relative to the pipeline: its rope_theta, rope_scaling, head_dim and partial rotary factor replace this node's variant and params, with HF semantics (as a connected `model` input does)"),
  configLayer: z17.number().int().min(0).max(4096).optional().describe("with a config: the layer whose rotary to use (Gemma 3's sliding layers use rope_local_base_freq); default a global layer")
};
var factorParam = (def) => z17.number().min(1).max(1e6).default(def).describe("context extension factor s");
function ropeInv(base, D) {
  const inv = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = Math.pow(base, -2 * i / D);
  return inv;
}
var plainPlan = (inv, extra = {}) => ({ inv, attentionFactor: 1, ...extra });
function positionsOf(T, offset, given) {
  if (given) {
    if (given.length !== T) throw new ShapeError("positions", `"positions" has ${given.length} entries but k has Tk = ${T}`);
    return given;
  }
  const pos = new Int32Array(T);
  for (let t = 0; t < T; t++) pos[t] = offset + t;
  return pos;
}
function lengthOf(positions) {
  let max = -1;
  for (const p of positions) if (p > max) max = p;
  return max + 1;
}

// src/nodes/position/alibi.ts
function alibiSlopes(n) {
  const pow2 = (m) => Array.from({ length: m }, (_, h) => Math.pow(2, -8 * (h + 1) / m));
  if (Number.isInteger(Math.log2(n))) return pow2(n);
  const p = 2 ** Math.floor(Math.log2(n));
  return [...pow2(p), ...alibiSlopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, n - p)];
}
var alibi = {
  params: z18.object({ variant: z18.literal("alibi"), ...commonParams2 }),
  doc: {
    title: "ALiBi",
    summary: "q and k pass through; `bias` carries one slope per head and attention adds \u2212m_h\xB7(i \u2212 j) to each score (indices, not the `positions` input).",
    formula: "score(h, i, j) += \u2212m_h\xB7(i \u2212 j); m_h = 2^(\u22128(h+1)/n) for n heads a power of two",
    references: [{ title: "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation", year: 2022 }]
  },
  effect: "none",
  plan: (_p, D) => plainPlan(new Float64Array(Math.floor(D / 2))),
  bias: (_p, H) => [{ type: "alibi", slopes: alibiSlopes(H) }]
};

// src/nodes/position/dynamic.ts
import { z as z19 } from "zod";
var params3 = z19.object({
  variant: z19.literal("dynamic"),
  ...commonParams2,
  factor: factorParam(2),
  maxPositionEmbeddings: z19.number().int().min(1).max(MAX_LEN).default(4096).describe("the trained context length")
});
var dynamic = {
  params: params3,
  doc: {
    title: "Dynamic NTK",
    summary: "Plain RoPE up to the trained length; beyond it, NTK scaling with a base that grows with L = max position + 1.",
    formula: "L > maxPositionEmbeddings: base' = base \xB7 (s\xB7L/maxPositionEmbeddings \u2212 (s \u2212 1))^(D/(D\u22122)); else base' = base",
    references: [{ title: "Dynamically Scaled RoPE further increases performance of long context LLaMA (emozilla)", year: 2023 }]
  },
  effect: "rotate",
  plan(p, D, L) {
    const base = L > p.maxPositionEmbeddings ? p.base * Math.pow(p.factor * L / p.maxPositionEmbeddings - (p.factor - 1), D / (D - 2)) : p.base;
    return plainPlan(ropeInv(base, D), { facts: { base } });
  }
};

// src/nodes/position/from-config.ts
var getMscale = (s2, mscale = 1) => s2 <= 1 ? 1 : 0.1 * mscale * Math.log(s2) + 1;
function ropeFromConfig(a, opts2 = {}) {
  const fail = (msg) => {
    throw new ModelConfigError(`${a.source}: ${msg}`);
  };
  if (a.positions === "learned" || !a.rope)
    return fail(`${a.modelType} uses learned absolute positions (transformer.wpe), not a rotary embedding; the position node cannot take its config`);
  const r = a.rope;
  if (opts2.layer !== void 0 && (opts2.layer < 0 || opts2.layer >= a.numLayers)) fail(`layer ${opts2.layer} is out of range: the model has ${a.numLayers} layers`);
  const local = opts2.layer !== void 0 && a.layerKinds[opts2.layer] === "sliding" && r.localTheta !== void 0;
  const common = { base: local ? r.localTheta : r.theta, positionOffset: opts2.positionOffset ?? 0, layout: r.layout };
  const headDim = a.mla ? a.mla.qkRopeHeadDim : a.headDim;
  const out = (params15) => ({ params: params15, headDim, rotaryDims: r.rotaryDim });
  const s2 = local ? null : r.scaling;
  const type = s2 ? s2.rope_type ?? s2.type ?? "default" : "default";
  const num = (key, def) => {
    const v = s2?.[key] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) return fail(`rope_scaling.${key} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const list = (key) => {
    const v = s2?.[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || !(x > 0))) return fail(`rope_scaling.${key} must be a list of positive numbers`);
    if (v.length !== r.rotaryDim / 2) fail(`rope_scaling.${key} has ${v.length} entries; the rotary dims (${r.rotaryDim}) need ${r.rotaryDim / 2}`);
    return v;
  };
  switch (type) {
    case "default":
      return out({ variant: "rope", ...common });
    case "linear":
      return out({ variant: "linear", ...common, factor: num("factor") });
    case "dynamic":
      return out({ variant: "dynamic", ...common, factor: num("factor"), maxPositionEmbeddings: a.maxPositionEmbeddings });
    case "yarn": {
      if (s2.truncate === false) fail("rope_scaling.truncate = false (unrounded correction range) is not supported");
      const factor = num("factor");
      const orig = num("original_max_position_embeddings", a.maxPositionEmbeddings);
      const mscale = s2.mscale;
      const mscaleAllDim = s2.mscale_all_dim;
      const attentionFactor = s2.attention_factor !== void 0 && s2.attention_factor !== null ? num("attention_factor") : mscale && mscaleAllDim ? getMscale(factor, mscale) / getMscale(factor, mscaleAllDim) : getMscale(factor);
      return out({ variant: "yarn", ...common, factor, originalMaxPositionEmbeddings: orig, betaFast: num("beta_fast", 32), betaSlow: num("beta_slow", 1), attentionFactor });
    }
    case "longrope":
    case "su": {
      const orig = a.originalMaxPositionEmbeddings ?? num("original_max_position_embeddings", a.maxPositionEmbeddings);
      const params15 = {
        variant: "longrope",
        ...common,
        shortFactor: list("short_factor"),
        longFactor: list("long_factor"),
        originalMaxPositionEmbeddings: orig,
        maxPositionEmbeddings: a.maxPositionEmbeddings
      };
      if (s2.attention_factor !== void 0 && s2.attention_factor !== null) params15.attentionFactor = num("attention_factor");
      return out(params15);
    }
    case "llama3":
      return out({
        variant: "llama3",
        ...common,
        factor: num("factor"),
        lowFreqFactor: num("low_freq_factor"),
        highFreqFactor: num("high_freq_factor"),
        originalMaxPositionEmbeddings: num("original_max_position_embeddings")
      });
    default:
      return fail(`rope_scaling type ${JSON.stringify(type)} is not supported; supported: default, linear, dynamic, yarn, longrope (su), llama3`);
  }
}

// src/nodes/position/linear.ts
import { z as z20 } from "zod";
var params4 = z20.object({ variant: z20.literal("linear"), ...commonParams2, factor: factorParam(4) });
var linear2 = {
  params: params4,
  doc: {
    title: "Linear (Position Interpolation)",
    summary: "Divides every RoPE frequency by the factor: position n rotates like n/s did during training.",
    formula: "inv'_i = base^(\u22122i/D) / s",
    references: [{ title: "Extending Context Window of Large Language Models via Positional Interpolation", year: 2023 }]
  },
  effect: "rotate",
  plan: (p, D) => plainPlan(ropeInv(p.base, D).map((v) => v / p.factor), { factor: p.factor })
};

// src/nodes/position/llama3.ts
import { z as z21 } from "zod";
var params5 = z21.object({
  variant: z21.literal("llama3"),
  ...commonParams2,
  factor: factorParam(8),
  lowFreqFactor: z21.number().positive().default(1).describe("wavelengths above orig/lowFreqFactor are divided by the factor"),
  highFreqFactor: z21.number().positive().default(4).describe("wavelengths below orig/highFreqFactor are kept"),
  originalMaxPositionEmbeddings: z21.number().int().min(1).max(MAX_LEN).default(8192).describe("the trained context length")
});
function checkBands(p) {
  if (!(p.highFreqFactor > p.lowFreqFactor))
    throw new Error(`llama3: highFreqFactor (${p.highFreqFactor}) must exceed lowFreqFactor (${p.lowFreqFactor})`);
}
var llama3 = {
  params: params5,
  doc: {
    title: "Llama 3 scaling",
    summary: "Per wavelength \u03BB = 2\u03C0/inv: short wavelengths kept, long ones divided by the factor, a smooth blend between.",
    formula: "\u03BB < orig/high: inv' = inv; \u03BB > orig/low: inv' = inv/s; else t = (orig/\u03BB \u2212 low)/(high \u2212 low), inv' = (1 \u2212 t)\xB7inv/s + t\xB7inv",
    references: [{ title: "The Llama 3 Herd of Models", year: 2024 }]
  },
  effect: "rotate",
  check: checkBands,
  plan(p, D) {
    checkBands(p);
    const orig = p.originalMaxPositionEmbeddings;
    const inv = ropeInv(p.base, D).map((v) => {
      const wavelength = 2 * Math.PI / v;
      if (wavelength < orig / p.highFreqFactor) return v;
      if (wavelength > orig / p.lowFreqFactor) return v / p.factor;
      const t = (orig / wavelength - p.lowFreqFactor) / (p.highFreqFactor - p.lowFreqFactor);
      return (1 - t) * v / p.factor + t * v;
    });
    return { inv, attentionFactor: 1, factor: p.factor };
  }
};

// src/nodes/position/longrope.ts
import { z as z22 } from "zod";
var params6 = z22.object({
  variant: z22.literal("longrope"),
  ...commonParams2,
  shortFactor: z22.array(z22.number().positive()).default([]).describe("D/2 factors used while L \u2264 originalMaxPositionEmbeddings (short_factor)"),
  longFactor: z22.array(z22.number().positive()).default([]).describe("D/2 factors used once L > originalMaxPositionEmbeddings (long_factor)"),
  originalMaxPositionEmbeddings: z22.number().int().min(1).max(MAX_LEN).default(4096).describe("the trained context length"),
  maxPositionEmbeddings: z22.number().int().min(1).max(MAX_LEN).default(131072).describe("the extended context length"),
  attentionFactor: z22.number().positive().optional().describe("multiplies cos and sin; default \u221A(1 + ln s / ln orig)")
});
function longropeAttentionFactor(orig, max) {
  const s2 = max / orig;
  return s2 <= 1 ? 1 : Math.sqrt(1 + Math.log(s2) / Math.log(orig));
}
function checkFactors(p, D) {
  for (const name of ["shortFactor", "longFactor"])
    if (p[name].length !== D / 2)
      throw new Error(
        `longrope: ${name} has ${p[name].length} entries but head dim ${D} needs D/2 = ${D / 2} (the ${name === "shortFactor" ? "short_factor" : "long_factor"} list of the model's rope_scaling)`
      );
}
var longrope = {
  params: params6,
  doc: {
    title: "LongRoPE",
    summary: "Divides each frequency by its own searched factor: the long list once L = max position + 1 exceeds the original length, the short list otherwise.",
    formula: "ext = L > orig ? longFactor : shortFactor; inv_i = 1 / (ext_i \xB7 base^(2i/D)); cos, sin \xD7= \u221A(1 + ln(max/orig)/ln orig)",
    references: [{ title: "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens", year: 2024 }]
  },
  effect: "rotate",
  check: checkFactors,
  plan(p, D, L) {
    checkFactors(p, D);
    const long = L > p.originalMaxPositionEmbeddings;
    const ext = long ? p.longFactor : p.shortFactor;
    const inv = new Float64Array(D / 2);
    for (let i = 0; i < D / 2; i++) inv[i] = 1 / (ext[i] * Math.pow(p.base, 2 * i / D));
    const attentionFactor = p.attentionFactor ?? longropeAttentionFactor(p.originalMaxPositionEmbeddings, p.maxPositionEmbeddings);
    return { inv, attentionFactor, facts: { factors: long ? "long" : "short" } };
  }
};

// src/nodes/position/none.ts
import { z as z23 } from "zod";
var none = {
  params: z23.object({ variant: z23.literal("none"), ...commonParams2 }),
  doc: {
    title: "None (NoPE)",
    summary: "q and k pass through unchanged; the causal mask alone carries order. Frequencies are all 0.",
    references: [{ title: "The Impact of Positional Encoding on Length Generalization in Transformers", year: 2023 }]
  },
  effect: "none",
  plan: (_p, D) => plainPlan(new Float64Array(Math.floor(D / 2)))
};

// src/nodes/position/ntk.ts
import { z as z24 } from "zod";
var params7 = z24.object({ variant: z24.literal("ntk"), ...commonParams2, factor: factorParam(4) });
var ntk = {
  params: params7,
  doc: {
    title: "NTK-aware",
    summary: "Raises the base so inv_0 is unchanged and the lowest frequency is divided by exactly s.",
    formula: "base' = base \xB7 s^(D/(D\u22122)); inv'_i = base'^(\u22122i/D)",
    references: [{ title: "NTK-Aware Scaled RoPE (bloc97, r/LocalLLaMA)", year: 2023 }]
  },
  effect: "rotate",
  plan(p, D) {
    const base = p.base * Math.pow(p.factor, D / (D - 2));
    return plainPlan(ropeInv(base, D), { factor: p.factor, facts: { base } });
  }
};

// src/nodes/position/rope.ts
import { z as z25 } from "zod";
var rope = {
  params: z25.object({ variant: z25.literal("rope"), ...commonParams2 }),
  doc: {
    title: "RoPE",
    summary: "Rotates pair i of q and k by n\xB7inv_i, so q_m\xB7k_n depends on m \u2212 n only.",
    formula: "inv_i = base^(\u22122i/D); out = x\xB7cos(n\xB7inv) + rotate(x)\xB7sin(n\xB7inv)",
    references: [{ title: "RoFormer: Enhanced Transformer with Rotary Position Embedding", year: 2021 }]
  },
  effect: "rotate",
  plan: (p, D) => plainPlan(ropeInv(p.base, D))
};

// src/nodes/position/rotate.ts
function rotaryTables(plan, positions, sign) {
  const half = plan.inv.length;
  const T = positions.length;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    const n = positions[t];
    for (let i = 0; i < half; i++) {
      const angle = n * plan.inv[i];
      const scale = plan.attentionFactor * (plan.xpos ? Math.pow(plan.xpos.zeta[i], sign * n / plan.xpos.scaleBase) : 1);
      cos[t * half + i] = Math.cos(angle) * scale;
      sin[t * half + i] = Math.sin(angle) * scale;
    }
  }
  return { cos, sin };
}
function rotateTf(tf3, x, cos, sin, layout) {
  const [H, T, D] = x.shape;
  return tf3.tidy(() => {
    if (layout === "half") {
      const [x1, x2] = tf3.split(x, 2, 2);
      return tf3.concat([tf3.sub(tf3.mul(x1, cos), tf3.mul(x2, sin)), tf3.add(tf3.mul(x2, cos), tf3.mul(x1, sin))], 2);
    }
    const pairs = tf3.reshape(x, [H, T, D / 2, 2]);
    const [xe, xo] = tf3.split(pairs, 2, 3).map((t) => tf3.reshape(t, [H, T, D / 2]));
    const even = tf3.sub(tf3.mul(xe, cos), tf3.mul(xo, sin));
    const odd = tf3.add(tf3.mul(xo, cos), tf3.mul(xe, sin));
    return tf3.reshape(tf3.stack([even, odd], 3), [H, T, D]);
  });
}
var pairOf = (layout, i, D) => layout === "half" ? [i, i + D / 2] : [2 * i, 2 * i + 1];
function rotateReference(x, positions, plan, layout, sign) {
  const [H, T, D] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let t = 0; t < T; t++) {
    const n = positions[t];
    for (let i = 0; i < D / 2; i++) {
      const decay = plan.xpos ? Math.pow(plan.xpos.zeta[i], sign * n / plan.xpos.scaleBase) : 1;
      const c = Math.cos(n * plan.inv[i]) * plan.attentionFactor * decay;
      const s2 = Math.sin(n * plan.inv[i]) * plan.attentionFactor * decay;
      const [a, b] = pairOf(layout, i, D);
      for (let h = 0; h < H; h++) {
        const row = (h * T + t) * D;
        const x1 = x.data[row + a];
        const x2 = x.data[row + b];
        out[row + a] = x1 * c - x2 * s2;
        out[row + b] = x2 * c + x1 * s2;
      }
    }
  }
  return f32([H, T, D], out, ["H", "T", "D"]);
}
function sinusoidTable(inv, positions) {
  const D = inv.length * 2;
  const table = new Float32Array(positions.length * D);
  positions.forEach((n, t) => {
    for (let i = 0; i < D / 2; i++) {
      table[t * D + 2 * i] = Math.sin(n * inv[i]);
      table[t * D + 2 * i + 1] = Math.cos(n * inv[i]);
    }
  });
  return table;
}
function addSinusoidReference(x, positions, inv) {
  const [H, T, D] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) {
        const a = positions[t] * inv[d >> 1];
        out[(h * T + t) * D + d] = x.data[(h * T + t) * D + d] + (d % 2 === 0 ? Math.sin(a) : Math.cos(a));
      }
  return f32([H, T, D], out, ["H", "T", "D"]);
}

// src/nodes/position/sinusoidal.ts
import { z as z26 } from "zod";
var sinusoidal = {
  params: z26.object({ variant: z26.literal("sinusoidal"), ...commonParams2 }),
  doc: {
    title: "Sinusoidal (absolute)",
    summary: "Adds Vaswani et al.'s table to q and k: sin at even dims, cos at odd dims (always interleaved; `layout` is for rotations).",
    formula: "PE(n, 2i) = sin(n\xB7base^(\u22122i/D)), PE(n, 2i+1) = cos(n\xB7base^(\u22122i/D)); q += PE(n), k += PE(n)",
    references: [{ title: "Attention Is All You Need", year: 2017 }]
  },
  effect: "add",
  plan: (p, D) => plainPlan(ropeInv(p.base, D))
};

// src/nodes/position/xpos.ts
import { z as z27 } from "zod";
var params8 = z27.object({
  variant: z27.literal("xpos"),
  ...commonParams2,
  scaleBase: z27.number().positive().default(512).describe("positions per unit of the decay exponent"),
  gamma: z27.number().min(0).max(10).default(0.4).describe("\u03B3 in \u03B6_i = (2i/D + \u03B3)/(1 + \u03B3)")
});
var xpos = {
  params: params8,
  doc: {
    title: "xPos",
    summary: "RoPE with a per-pair decay: q at position n scaled by \u03B6_i^(n/scaleBase), k by \u03B6_i^(\u2212n/scaleBase); positions are used as given (not centred), so very long sequences overflow float32.",
    formula: "\u03B6_i = (2i/D + \u03B3)/(1 + \u03B3); q\u0303_n = \u03B6^(n/scaleBase)\xB7RoPE(q, n); k\u0303_n = \u03B6^(\u2212n/scaleBase)\xB7RoPE(k, n)",
    references: [{ title: "A Length-Extrapolatable Transformer", year: 2022 }]
  },
  effect: "rotate",
  plan(p, D) {
    const zeta = new Float64Array(D / 2);
    for (let i = 0; i < D / 2; i++) zeta[i] = (2 * i / D + p.gamma) / (1 + p.gamma);
    return { inv: ropeInv(p.base, D), attentionFactor: 1, xpos: { zeta, scaleBase: p.scaleBase } };
  }
};

// src/nodes/position/yarn.ts
import { z as z28 } from "zod";
var params9 = z28.object({
  variant: z28.literal("yarn"),
  ...commonParams2,
  factor: factorParam(4),
  originalMaxPositionEmbeddings: z28.number().int().min(1).max(MAX_LEN).default(4096).describe("the trained context length"),
  betaFast: z28.number().positive().default(32).describe("rotations above which a dim is left unchanged"),
  betaSlow: z28.number().positive().default(1).describe("rotations below which a dim is fully interpolated"),
  attentionFactor: z28.number().positive().optional().describe("multiplies cos and sin; default 0.1\xB7ln(s) + 1")
});
var correctionDim = (rotations, D, base, orig) => D * Math.log(orig / (2 * Math.PI * rotations)) / (2 * Math.log(base));
var yarnMscale = (s2) => s2 <= 1 ? 1 : 0.1 * Math.log(s2) + 1;
var yarn = {
  params: params9,
  doc: {
    title: "YaRN",
    summary: "High-frequency dims (many turns over the trained length) are kept, low-frequency dims are divided by s, a ramp in between; cos and sin are scaled by the attention factor.",
    formula: "corr(r) = D\xB7ln(orig/(2\u03C0\xB7r)) / (2\xB7ln base); low = max(\u230Acorr(betaFast)\u230B, 0), high = min(\u2308corr(betaSlow)\u2309, D\u22121); ramp_i = clamp((i\u2212low)/(high\u2212low), 0, 1); inv_i = (\u03B8_i/s)\xB7ramp_i + \u03B8_i\xB7(1\u2212ramp_i)",
    references: [{ title: "YaRN: Efficient Context Window Extension of Large Language Models", year: 2023 }]
  },
  effect: "rotate",
  plan(p, D) {
    const low = Math.max(Math.floor(correctionDim(p.betaFast, D, p.base, p.originalMaxPositionEmbeddings)), 0);
    let high = Math.min(Math.ceil(correctionDim(p.betaSlow, D, p.base, p.originalMaxPositionEmbeddings)), D - 1);
    if (high === low) high += 1e-3;
    const theta = ropeInv(p.base, D);
    const inv = theta.map((t, i) => {
      const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
      return t / p.factor * ramp + t * (1 - ramp);
    });
    return { inv, attentionFactor: p.attentionFactor ?? yarnMscale(p.factor), factor: p.factor, facts: { low, high } };
  }
};

// src/nodes/position/index.ts
var variants2 = [none, sinusoidal, rope, linear2, ntk, dynamic, yarn, longrope, llama3, alibi, xpos];
var family2 = variantFamily(variants2);
var { byName: byName2, params: params10 } = family2;
var variantOf = (p) => byName2.get(p.variant);
function checkTq(Tq, Tk) {
  if (Tq !== null && Tk !== null && Tq > Tk)
    throw new ShapeError("q", `"q" has Tq = ${Tq} tokens but k has Tk = ${Tk}: the queries are the last Tq of k's tokens, so Tq \u2264 Tk`);
}
function inferDims(ins, p) {
  const env2 = {};
  const [H, Tq, D] = bindDims(env2, "q", ins.q, ["H", "Tq", "D"], { dtype: "float32" });
  const [Hkv, Tk] = bindDims(env2, "k", ins.k, ["Hkv", "Tk", "D"], { dtype: "float32" });
  if (ins.positions) bindDims(env2, "positions", ins.positions, ["Tk"], { dtype: "int32" });
  const dims = { H: H ?? null, Hkv: Hkv ?? null, Tq: Tq ?? null, Tk: env2.Tk ?? Tk ?? null, D: env2.D ?? D ?? null };
  checkTq(dims.Tq, dims.Tk);
  if (ins.model) return dims;
  const v = variantOf(p);
  const d = dims.D;
  if (p.rotaryDims !== void 0 && v.effect !== "rotate") throw new Error(`rotaryDims applies to the rotary variants, not ${p.variant}`);
  if (d !== null) {
    if (v.effect !== "none" && d % 2 !== 0) throw new ShapeError("q", `${p.variant} pairs the dims of q: head dim D must be even, got ${d}`);
    if (p.rotaryDims !== void 0 && p.rotaryDims > d) throw new ShapeError("q", `rotaryDims = ${p.rotaryDims} exceeds q's head dim D = ${d}`);
    v.check?.(p, rotaryOf(p, d));
  }
  return dims;
}
var rotaryOf = (p, D) => p.rotaryDims ?? D;
async function resolveParams(ctx, model, p) {
  let arch;
  if (model) arch = parseModelConfig(model.config, model.source ?? "model");
  else if (p.fromConfig !== void 0) {
    if (!ctx) throw new Error("position: fromConfig needs the file, read when the node runs");
    arch = readModelConfig(await ctx.readFile(p.fromConfig), p.fromConfig).arch;
  }
  return arch ? configParams(arch, p) : { params: p, headDim: void 0 };
}
function configParams(arch, p) {
  const r = ropeFromConfig(arch, { layer: p.configLayer, positionOffset: p.positionOffset });
  const params15 = { ...r.params, ...r.rotaryDims < r.headDim ? { rotaryDims: r.rotaryDims } : {} };
  return { params: byName2.get(params15.variant).params.parse(params15), headDim: r.headDim };
}
function checkHeadDim(D, headDim, source) {
  if (headDim !== void 0 && D !== headDim)
    throw new ShapeError("q", `q and k have head dim D = ${D} but ${source} gives ${headDim} (head_dim, or qk_rope_head_dim for MLA)`);
}
function runDims(q, k, p) {
  if (q.shape.length !== 3) throw new ShapeError("q", `"q" expects rank 3 [H, Tq, D], got [${q.shape.join(", ")}]`);
  if (k.shape.length !== 3) throw new ShapeError("k", `"k" expects rank 3 [Hkv, Tk, D], got [${k.shape.join(", ")}]`);
  const [H, Tq, D] = q.shape;
  const [Hkv, Tk] = k.shape;
  if (k.shape[2] !== D) throw new ShapeError("k", `"k" is [${k.shape.join(", ")}] but q is [${q.shape.join(", ")}]: D must match`);
  checkTq(Tq, Tk);
  inferDims({ q: tensorShape("float32", q.shape), k: tensorShape("float32", k.shape) }, p);
  return { H, Hkv, Tq, Tk, D };
}
function prepare(q, k, given, p) {
  const dims = runDims(q, k, p);
  if (given && given.dtype !== "int32") throw new ShapeError("positions", `"positions" expects int32, got ${given.dtype}`);
  const positions = positionsOf(dims.Tk, p.positionOffset, given?.data);
  const qPositions = positions.subarray(dims.Tk - dims.Tq);
  const v = variantOf(p);
  const L = lengthOf(positions);
  const R = rotaryOf(p, dims.D);
  const plan = v.plan(p, R, L);
  const bias = { kind: "bias", terms: v.bias?.(p, dims.H) ?? [] };
  const frequencies = f32([plan.inv.length], plan.inv, ["D/2"]);
  return { dims, R, v, positions, qPositions, plan, bias, frequencies, metrics: metrics(metricsOf(p, v, plan, R, L, bias)) };
}
function metricsOf(p, v, plan, D, L, bias) {
  const m = { variant: p.variant, headDim: D, maxPosition: L - 1 };
  if (p.rotaryDims !== void 0) m.rotaryDims = p.rotaryDims;
  if (v.effect === "rotate") {
    const theta = ropeInv(p.base, D);
    const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
    m.attentionFactor = plan.attentionFactor;
    m.unchangedDims = plan.inv.filter((x, i) => near(x, theta[i])).length;
    if (plan.factor !== void 0) m.dividedDims = plan.inv.filter((x, i) => near(x, theta[i] / plan.factor)).length;
    m.minWavelength = 2 * Math.PI / Math.max(...plan.inv);
    m.maxWavelength = 2 * Math.PI / Math.min(...plan.inv);
    Object.assign(m, plan.facts);
  }
  for (const t of bias.terms) if (t.type === "alibi") m.slopes = t.slopes;
  return m;
}
var lastRows = (table, rows, cols) => table.slice(table.length - rows * cols);
async function onBackend(tf3, x, f, R) {
  const [H, T, D] = x.shape;
  const xt = tf3.tensor3d(x.data, [H, T, D]);
  const y = R === void 0 || R === D ? f(xt) : tf3.tidy(() => {
    const [rot, pass] = tf3.split(xt, [R, D - R], 2);
    return tf3.concat([f(rot), pass], 2);
  });
  try {
    return f32([H, T, D], await y.data(), ["H", "T", "D"]);
  } finally {
    tf3.dispose([xt, y]);
  }
}
async function transform(ctx, q, k, prep, p) {
  const { tf: tf3 } = ctx;
  const { v, plan, positions, qPositions, R } = prep;
  const { Tq, Tk, D } = prep.dims;
  const want = { q: ctx.isConnected("q"), k: ctx.isConnected("k") };
  if (v.effect === "none") return { q, k };
  if (v.effect === "add") {
    const host = sinusoidTable(plan.inv, positions);
    const tableK = tf3.tensor2d(host, [Tk, D]);
    const tableQ = Tq === Tk ? tableK : tf3.tensor2d(lastRows(host, Tq, D), [Tq, D]);
    try {
      return {
        q: want.q ? await onBackend(tf3, q, (x) => tf3.add(x, tableQ)) : void 0,
        k: want.k ? await onBackend(tf3, k, (x) => tf3.add(x, tableK)) : void 0
      };
    } finally {
      tf3.dispose([.../* @__PURE__ */ new Set([tableQ, tableK])]);
    }
  }
  const upload = (cos, sin, rows) => {
    ctx.track(cos.byteLength * 2);
    return { cos: tf3.tensor2d(cos, [rows, R / 2]), sin: tf3.tensor2d(sin, [rows, R / 2]), bytes: cos.byteLength * 2 };
  };
  const hostK = rotaryTables(plan, positions, plan.xpos ? -1 : 1);
  const tk = upload(hostK.cos, hostK.sin, Tk);
  const hostQ = plan.xpos ? rotaryTables(plan, qPositions, 1) : Tq === Tk ? void 0 : { cos: lastRows(hostK.cos, Tq, R / 2), sin: lastRows(hostK.sin, Tq, R / 2) };
  const tq = hostQ ? upload(hostQ.cos, hostQ.sin, Tq) : tk;
  try {
    const qOut = want.q ? await onBackend(tf3, q, (x) => rotateTf(tf3, x, tq.cos, tq.sin, p.layout), R) : void 0;
    ctx.checkCancelled();
    ctx.progress(0.5);
    const kOut = want.k ? await onBackend(tf3, k, (x) => rotateTf(tf3, x, tk.cos, tk.sin, p.layout), R) : void 0;
    return { q: qOut, k: kOut };
  } finally {
    for (const t of /* @__PURE__ */ new Set([tq, tk])) {
      tf3.dispose([t.cos, t.sin]);
      ctx.release(t.bytes);
    }
  }
}
var position = defineNode({
  type: "position",
  family: "position",
  title: "Position encoding",
  summary: "Puts positions into q and k: RoPE and its context-extension rules (PI, NTK, dynamic NTK, YaRN, LongRoPE, Llama 3), sinusoidal, xPos, or ALiBi as a structured bias.",
  references: family2.references,
  params: params10,
  variants: family2.docs,
  inputs: {
    q: {
      kind: "tensor",
      dims: ["H", "Tq", "D"],
      doc: "queries: the newest Tq \u2264 Tk tokens, at the last Tq of k's positions (Tq = 1 when decoding)"
    },
    k: { kind: "tensor", dims: ["Hkv", "Tk", "D"], doc: "keys: all Tk tokens, cached ones included" },
    positions: {
      kind: "tensor",
      optional: true,
      dims: ["Tk"],
      doc: "int32 position of each of k's tokens (e.g. from `segment`); default positionOffset..positionOffset+Tk\u22121; q takes the last Tq"
    },
    model: {
      kind: "model",
      optional: true,
      doc: "a model (model.config, model.load): its rope_theta, rope_scaling, head_dim and partial rotary factor replace the variant and its params, with HF semantics"
    }
  },
  outputs: {
    q: { kind: "tensor", dims: ["H", "Tq", "D"] },
    k: { kind: "tensor", dims: ["Hkv", "Tk", "D"] },
    bias: { kind: "bias", doc: "ALiBi slopes for attention; empty for the other variants" },
    frequencies: { kind: "tensor", dims: ["D/2"], doc: "float32 inverse frequencies actually used: those of the rotation, the sinusoidal table's base^(\u22122i/D) for sinusoidal, 0 for none and alibi" },
    metrics: {
      kind: "metrics",
      doc: "maxPosition (over k's positions), attentionFactor, unchangedDims / dividedDims against plain RoPE, wavelength range, effective base, YaRN low/high, ALiBi slopes"
    }
  },
  infer(ins, p) {
    const { H, Hkv, Tq, Tk, D } = inferDims(ins, p);
    const half = D === null || ins.model ? null : Math.floor(rotaryOf(p, D) / 2);
    return {
      q: tensorShape("float32", [H, Tq, D], ["H", "Tq", "D"]),
      k: tensorShape("float32", [Hkv, Tk, D], ["Hkv", "Tk", "D"]),
      bias: { kind: "bias", shape: [H, Tk] },
      frequencies: tensorShape("float32", [half], ["D/2"]),
      metrics: { kind: "metrics" }
    };
  },
  cost(ins, p) {
    const { H, Hkv, Tq, Tk, D } = inferDims(ins, p);
    const [h, hkv, tk, d] = [H ?? 0, Hkv ?? 0, Tk ?? 0, D ?? 0];
    const tq = Tq ?? tk;
    const elems = (h * tq + hkv * tk) * d;
    const effect = variantOf(p).effect;
    if (effect === "none") return { flops: 0, workspaceBytes: 0, note: "q and k pass through" };
    const temps = 6 * Math.max(h * tq, hkv * tk) * d * 4;
    const qRows = p.variant === "xpos" || tq < tk ? tq : 0;
    const rows = tk + qRows;
    const tables = `${tk}\xD7${effect === "add" ? d : d / 2}${qRows ? ` for k, ${tq} rows for q` : ""}`;
    if (effect === "add")
      return { flops: elems, workspaceBytes: 2 * rows * d * 4 + temps, bytesMoved: 2 * elems * 4, note: `sinusoid table ${tables} f32` };
    const computed = p.variant === "xpos" ? rows : tk;
    return {
      flops: 3 * elems + computed * d,
      workspaceBytes: 2 * (2 * rows * (d / 2) * 4) + temps,
      bytesMoved: 2 * elems * 4,
      note: `cos/sin tables ${tables} f32, on host and backend`
    };
  },
  // fromConfig: the config's rotary becomes the params before compiling, so shapes and checks hold.
  async prepare(params15, readHead) {
    if (typeof params15.fromConfig !== "string") return params15;
    const head = await readHead(params15.fromConfig);
    if (!head || head.bytes.length < head.size) return params15;
    try {
      const { params: derived } = configParams(readModelConfig(head.bytes, params15.fromConfig).arch, params15);
      return { ...derived, fromConfig: params15.fromConfig, ...params15.configLayer !== void 0 ? { configLayer: params15.configLayer } : {} };
    } catch (err) {
      throw Object.assign(err, { param: "fromConfig" });
    }
  },
  async run(ctx, ins, given) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    const { params: p, headDim } = await resolveParams(ctx, ins.model, given);
    checkHeadDim(q.shape[2], headDim, ins.model?.source ?? given.fromConfig ?? "the config");
    const prep = prepare(q, k, ins.positions, p);
    const out = await transform(ctx, q, k, prep, p);
    ctx.progress(1);
    return { ...out, bias: prep.bias, frequencies: prep.frequencies, metrics: prep.metrics };
  },
  reference(ins, given) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    if (!ins.model && given.fromConfig !== void 0) throw new Error("position reference: pass the config as the `model` input");
    const { params: p, headDim } = ins.model ? configParams(parseModelConfig(ins.model.config, ins.model.source ?? "model"), given) : { params: given, headDim: void 0 };
    checkHeadDim(q.shape[2], headDim, ins.model?.source ?? "the config");
    const prep = prepare(q, k, ins.positions, p);
    const { v, plan, positions, qPositions, R } = prep;
    const apply = (x, at, sign) => v.effect === "rotate" ? partialReference(x, R, (xr) => rotateReference(xr, at, plan, p.layout, sign)) : v.effect === "add" ? addSinusoidReference(x, at, plan.inv) : x;
    return { q: apply(q, qPositions, 1), k: apply(k, positions, -1), bias: prep.bias, frequencies: prep.frequencies, metrics: prep.metrics };
  }
});
function partialReference(x, R, f) {
  const [H, T, D] = x.shape;
  if (R === D) return f(x);
  const rows = H * T;
  const head = new Float32Array(rows * R);
  for (let r = 0; r < rows; r++) head.set(x.data.subarray(r * D, r * D + R), r * R);
  const rotated = f(f32([H, T, R], head)).data;
  const out = Float32Array.from(x.data);
  for (let r = 0; r < rows; r++) out.set(rotated.subarray(r * R, (r + 1) * R), r * D);
  return f32([H, T, D], out, ["H", "T", "D"]);
}

// src/nodes/kv-cache/streaming.ts
import { z as z30 } from "zod";

// src/nodes/kv-cache/common.ts
import { z as z29 } from "zod";
var commonParams3 = {
  prefillTokens: z29.number().int().min(0).default(0).describe("tokens appended in the first step (the prompt); the rest arrive one per decode step; clamped to T")
};
function schedule(T, prefillTokens) {
  const P = Math.min(prefillTokens, T);
  const steps = P > 0 ? [[0, P]] : [];
  for (let t = P; t < T; t++) steps.push([t, t + 1]);
  return steps;
}
var TIMELINE_MAX_STEPS = 256;
var StepRecorder = class {
  constructor(totalSteps) {
    this.totalSteps = totalSteps;
    const m = Math.min(totalSteps, TIMELINE_MAX_STEPS);
    this.sampled = new Set(Array.from({ length: m }, (_, i) => m === 1 ? 0 : Math.round(i * (totalSteps - 1) / (m - 1))));
  }
  totalSteps;
  memoryPerStep = [];
  sampled;
  timeline = { step: [], seen: [], runs: [] };
  /** `runs` is called only for sampled steps. */
  record(seen, bytes, runs) {
    const step = this.memoryPerStep.length;
    this.memoryPerStep.push(bytes);
    if (this.sampled.has(step)) {
      this.timeline.step.push(step);
      this.timeline.seen.push(seen);
      this.timeline.runs.push(runs());
    }
  }
  metrics(extra) {
    const { s: s2, tokensKept } = extra;
    const perToken = bytesPerToken(s2);
    return {
      peakBytes: this.memoryPerStep.reduce((a, b) => Math.max(a, b), 0),
      finalBytes: this.memoryPerStep.at(-1) ?? 0,
      tokensKept,
      evicted: s2.T - tokensKept,
      blocks: extra.blocks ?? 0,
      fragmentation: extra.fragmentation ?? 0,
      bytesPerToken: perToken,
      // A dense full-precision cache holding every token of every sequence, with no waste: the baseline.
      fullBytes: s2.T * perToken * (extra.sequences ?? 1),
      steps: this.totalSteps,
      memoryPerStep: this.memoryPerStep,
      timeline: { ...this.timeline, maxSteps: TIMELINE_MAX_STEPS, subsampled: this.totalSteps > TIMELINE_MAX_STEPS }
    };
  }
};
var bytesPerToken = (s2) => s2.Hkv * (s2.D + s2.Dv) * 4;
var range2 = (a, b) => Int32Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

// src/nodes/kv-cache/streaming.ts
var params11 = z30.object({
  variant: z30.literal("streaming"),
  ...commonParams3,
  sinkTokens: z30.number().int().min(0).default(4).describe("leading tokens always kept (attention sinks; start_size)"),
  recentTokens: z30.number().int().min(0).default(1020).describe("most recent tokens kept (recent_size)")
}).refine((p) => p.sinkTokens + p.recentTokens >= 1, { message: "sinkTokens + recentTokens must be at least 1", path: ["recentTokens"] });
function streamingKept(len, sinkTokens, recentTokens) {
  if (len <= sinkTokens + recentTokens) return Int32Array.from({ length: len }, (_, i) => i);
  const out = new Int32Array(sinkTokens + recentTokens);
  for (let i = 0; i < sinkTokens; i++) out[i] = i;
  for (let i = 0; i < recentTokens; i++) out[sinkTokens + i] = len - recentTokens + i;
  return out;
}

// src/nodes/kv-cache/h2o.ts
import { z as z31 } from "zod";
var params12 = z31.object({
  variant: z31.literal("h2o"),
  ...commonParams3,
  heavyTokens: z31.number().int().min(0).default(128).describe("heavy hitters kept by accumulated attention (heavy_budget)"),
  recentTokens: z31.number().int().min(0).default(128).describe("most recent tokens always kept (recent_budget)")
}).refine((p) => p.heavyTokens + p.recentTokens >= 1, { message: "heavyTokens + recentTokens must be at least 1", path: ["heavyTokens"] });
function evict(held, score, recent, heavy) {
  const cut = held.length - Math.min(recent, held.length);
  if (cut === heavy + 1) {
    let drop = 0;
    for (let c = 1; c < cut; c++) if (score[held[c]] <= score[held[drop]]) drop = c;
    return [...held.slice(0, drop), ...held.slice(drop + 1)];
  }
  const top = held.slice(0, cut).sort((a, b) => score[b] - score[a] || a - b).slice(0, heavy).sort((a, b) => a - b);
  return [...top, ...held.slice(cut)];
}

// src/nodes/kv-cache/kivi.ts
import { z as z32 } from "zod";
var params13 = z32.object({
  variant: z32.literal("kivi"),
  ...commonParams3,
  bits: z32.literal([2, 4]).default(2).describe("bits per quantized element (k_bits = v_bits)"),
  groupSize: z32.number().int().min(1).max(4096).default(32).describe("tokens per key group, channels per value group (group_size)"),
  residualTokens: z32.number().int().min(1).default(128).describe("newest tokens kept in full precision (residual_length); a multiple of groupSize")
}).refine((p) => p.residualTokens % p.groupSize === 0, {
  message: "residualTokens must be a multiple of groupSize (keys are flushed residualTokens at a time, in whole groups)",
  path: ["residualTokens"]
});
function kiviSplit(len, R) {
  const keyQuantized = len - len % R;
  const valueQuantized = Math.max(0, len - R);
  return { keyQuantized, keyResidual: len - keyQuantized, valueQuantized, valueResidual: len - valueQuantized };
}
var codeBytes = (n, bits) => Math.ceil(n * bits / 32) * 4;
function kiviBytes(len, s2, p) {
  const { keyQuantized: kq, keyResidual: kr, valueQuantized: vq, valueResidual: vr } = kiviSplit(len, p.residualTokens);
  const keys = codeBytes(s2.Hkv * kq * s2.D, p.bits) + s2.Hkv * (kq / p.groupSize) * s2.D * 8;
  const values = codeBytes(s2.Hkv * vq * s2.Dv, p.bits) + s2.Hkv * vq * Math.ceil(s2.Dv / p.groupSize) * 8;
  return keys + values + s2.Hkv * (kr * s2.D + vr * s2.Dv) * 4;
}
var kivi = {
  params: params13,
  doc: {
    title: "KIVI (2/4-bit KV)",
    summary: "KIVI semantics: asymmetric min-max; keys per channel (groups of groupSize tokens), values per token (groups of groupSize channels); the newest tokens stay in full precision (keys flushed residualTokens at a time, values one at a time: Algorithm 1). Outputs the dequantized K/V and the true bytes of packed codes, float32 scales and minimums, and the residual.",
    formula: "s = (max \u2212 min)/(2^b \u2212 1); c = clamp(round((x \u2212 min)/s), 0, 2^b \u2212 1); x\u0302 = c\xB7s + min",
    references: [{ title: "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache", year: 2024 }]
  },
  kept: (T) => T,
  cost: (s2, p) => ({
    // min/max, subtract, divide, round, clamp, then dequantize: about 8 operations per element.
    flops: 8 * s2.Hkv * s2.T * (s2.D + s2.Dv),
    workspaceBytes: kiviBytes(s2.T, s2, p) + s2.Hkv * s2.T * Math.max(s2.D, s2.Dv),
    bytesMoved: 2 * s2.T * bytesPerToken(s2),
    note: `${p.bits}-bit codes, groups of ${p.groupSize}, ${p.residualTokens} residual tokens`
  }),
  simulate({ k, v }, p, s2) {
    const steps = schedule(s2.T, p.prefillTokens);
    const rec = new StepRecorder(steps.length);
    for (const [, to] of steps) rec.record(to, kiviBytes(to, s2, p), () => [0, to]);
    const split = kiviSplit(s2.T, p.residualTokens);
    const G = p.groupSize;
    const kq = quantizeGroups(k, p.bits, (emit) => {
      for (let h = 0; h < s2.Hkv; h++)
        for (let t0 = 0; t0 < split.keyQuantized; t0 += G)
          for (let d = 0; d < s2.D; d++) emit((h * s2.T + t0) * s2.D + d, s2.D, G);
    });
    const vq = quantizeGroups(v, p.bits, (emit) => {
      for (let h = 0; h < s2.Hkv; h++)
        for (let t = 0; t < split.valueQuantized; t++)
          for (let c0 = 0; c0 < s2.Dv; c0 += G) emit((h * s2.T + t) * s2.Dv + c0, 1, Math.min(G, s2.Dv - c0));
    });
    const residualBytes = s2.Hkv * (split.keyResidual * s2.D + split.valueResidual * s2.Dv) * 4;
    const finalBytes = kq.bytes + vq.bytes + residualBytes;
    const metrics2 = rec.metrics({ s: s2, tokensKept: s2.T });
    return {
      positions: range2(0, s2.T),
      k: kq.out,
      v: vq.out,
      metrics: {
        ...metrics2,
        finalBytes,
        bits: p.bits,
        groupSize: G,
        residualTokens: p.residualTokens,
        quantizedKeyTokens: split.keyQuantized,
        residualKeyTokens: split.keyResidual,
        quantizedValueTokens: split.valueQuantized,
        residualValueTokens: split.valueResidual,
        compression: metrics2.fullBytes / finalBytes,
        ...errors("key", k, kq.out),
        ...errors("value", v, vq.out)
      }
    };
  }
};
var PackedCodes = class {
  constructor(count, bits) {
    this.count = count;
    this.bits = bits;
    if (!(count < 2 ** 32)) throw new Error(`${count} codes: at most 2^32 - 1`);
    this.wordShift = Math.log2(32 / bits);
    this.inWord = 32 / bits - 1;
    this.mask = (1 << bits) - 1;
    this.words = new Uint32Array(Math.ceil(count / (32 / bits)));
  }
  count;
  bits;
  words;
  /** log2 of codes per word, and the index of a code within its word. */
  wordShift;
  inWord;
  mask;
  /** Stores code `c` (0 ≤ c < 2^bits) at index `i`, which must not have been set before. */
  set(i, c) {
    this.words[i >>> this.wordShift] |= c << (i & this.inWord) * this.bits;
  }
  get(i) {
    return this.words[i >>> this.wordShift] >>> (i & this.inWord) * this.bits & this.mask;
  }
};
function quantizeGroups(src, bits, groups) {
  const x = src.data;
  const out = Float32Array.from(x);
  const levels = (1 << bits) - 1;
  let groupCount = 0;
  let codeCount = 0;
  groups((_offset, _stride, count) => {
    groupCount++;
    codeCount += count;
  });
  const codes = new PackedCodes(codeCount, bits);
  const scales = new Float32Array(groupCount);
  const mins = new Float32Array(groupCount);
  let n = 0;
  let g = 0;
  groups((offset, stride, count) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < count; i++) {
      const e = x[offset + i * stride];
      lo = Math.min(lo, e);
      hi = Math.max(hi, e);
    }
    const scale = Math.fround((hi - lo) / levels);
    const min = Math.fround(lo);
    scales[g] = scale;
    mins[g++] = min;
    for (let i = 0; i < count; i++) {
      const e = x[offset + i * stride];
      codes.set(n++, scale > 0 ? Math.min(levels, Math.max(0, Math.round((e - min) / scale))) : 0);
    }
  });
  n = 0;
  g = 0;
  groups((offset, stride, count) => {
    for (let i = 0; i < count; i++) out[offset + i * stride] = codes.get(n++) * scales[g] + mins[g];
    g++;
  });
  return { out: f32(src.shape, out, src.dims), packed: codes.words, bytes: codes.words.byteLength + scales.byteLength + mins.byteLength };
}
function errors(name, a, b) {
  let maxAbs = 0;
  let sq = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    maxAbs = Math.max(maxAbs, d);
    sq += d * d;
  }
  return { [`${name}MaxAbs`]: maxAbs, [`${name}Mse`]: a.data.length ? sq / a.data.length : 0 };
}

// src/nodes/model/llama.ts
var FORWARD_MODEL_TYPES = ["llama", "mistral", "qwen2"];
var ModelError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ModelError";
  }
};
function forwardArch(model) {
  const arch = parseModelConfig(model.config, model.source ? `${model.source}/config.json` : "config.json");
  const where = arch.source;
  if (!FORWARD_MODEL_TYPES.includes(arch.modelType))
    throw new ModelError(`${where}: model_type "${arch.modelType}" is sized by model.config/plan, but the forward pass runs ${FORWARD_MODEL_TYPES.join(", ")} only`);
  const act = model.config.hidden_act ?? "silu";
  if (act !== "silu") throw new ModelError(`${where}: hidden_act "${String(act)}" is not supported (the Llama family uses "silu")`);
  if (arch.rope && arch.rope.partialRotaryFactor !== 1) throw new ModelError(`${where}: partial_rotary_factor ${arch.rope.partialRotaryFactor} is not supported (Llama rotates every dim)`);
  return arch;
}
function ropeParams(arch, raw, scaling) {
  const base = arch.rope.theta;
  const rs = scaling ?? {};
  const type = String(rs.rope_type ?? rs.type ?? "default");
  const num = (key, def) => {
    const v = rs[key] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ModelError(`rope_scaling (${type}): "${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const orig = () => num("original_max_position_embeddings", raw.original_max_position_embeddings ?? arch.maxPositionEmbeddings);
  let p;
  switch (type) {
    case "default":
      p = { variant: "rope", base };
      break;
    case "linear":
      p = { variant: "linear", base, factor: num("factor") };
      break;
    case "dynamic":
      p = { variant: "dynamic", base, factor: num("factor"), maxPositionEmbeddings: orig() };
      break;
    case "yarn":
      p = {
        variant: "yarn",
        base,
        factor: num("factor"),
        originalMaxPositionEmbeddings: orig(),
        betaFast: num("beta_fast", 32),
        betaSlow: num("beta_slow", 1),
        ...rs.attention_factor !== void 0 && rs.attention_factor !== null ? { attentionFactor: num("attention_factor") } : {}
      };
      break;
    case "longrope":
      p = {
        variant: "longrope",
        base,
        shortFactor: rs.short_factor,
        longFactor: rs.long_factor,
        originalMaxPositionEmbeddings: orig(),
        maxPositionEmbeddings: arch.maxPositionEmbeddings,
        ...rs.attention_factor !== void 0 && rs.attention_factor !== null ? { attentionFactor: num("attention_factor") } : {}
      };
      break;
    case "llama3":
      p = {
        variant: "llama3",
        base,
        factor: num("factor"),
        lowFreqFactor: num("low_freq_factor", 1),
        highFreqFactor: num("high_freq_factor", 4),
        originalMaxPositionEmbeddings: orig()
      };
      break;
    default:
      throw new ModelError(`rope_scaling: rope_type "${type}" is not supported (default, linear, dynamic, yarn, longrope, llama3)`);
  }
  return p;
}
var attentionByName = new Map(variants.map((v) => [variantName(v), v]));
var positionByName = new Map(variants2.map((v) => [variantName(v), v]));
var LlamaModel = class _LlamaModel {
  constructor(ctx, arch, embed, head, finalNorm, layers, bytes, eps) {
    this.ctx = ctx;
    this.arch = arch;
    this.embed = embed;
    this.head = head;
    this.finalNorm = finalNorm;
    this.layers = layers;
    this.bytes = bytes;
    this.eps = eps;
  }
  ctx;
  arch;
  embed;
  head;
  finalNorm;
  layers;
  bytes;
  eps;
  static async load(ctx, model) {
    const arch = forwardArch(model);
    const w = model.weights;
    if (!w) throw new ModelError(`${arch.source}: this model has no weights (model.config sizes a model; model.load reads one)`);
    const { tf: tf3 } = ctx;
    const all = [];
    let bytes = 0;
    const get = async (name, optional = false, transpose = false) => {
      if (!w.info(name)) {
        if (optional) return void 0;
        throw new ModelError(`${model.source ?? "model"}: missing tensor "${name}"`);
      }
      const t = await w.read(name);
      ctx.checkCancelled();
      const raw = tf3.tensor(t.data, t.shape);
      const up = transpose ? tf3.tidy(() => tf3.transpose(raw)) : raw;
      if (transpose) raw.dispose();
      all.push(up);
      bytes += t.data.byteLength;
      return up;
    };
    try {
      const embed = await get("model.embed_tokens.weight");
      const layers = [];
      for (let l = 0; l < arch.numLayers; l++) {
        const p = `model.layers.${l}.`;
        layers.push({
          inNorm: await get(`${p}input_layernorm.weight`),
          postNorm: await get(`${p}post_attention_layernorm.weight`),
          q: await get(`${p}self_attn.q_proj.weight`, false, true),
          k: await get(`${p}self_attn.k_proj.weight`, false, true),
          v: await get(`${p}self_attn.v_proj.weight`, false, true),
          o: await get(`${p}self_attn.o_proj.weight`, false, true),
          qb: await get(`${p}self_attn.q_proj.bias`, true),
          kb: await get(`${p}self_attn.k_proj.bias`, true),
          vb: await get(`${p}self_attn.v_proj.bias`, true),
          ob: await get(`${p}self_attn.o_proj.bias`, true),
          gate: await get(`${p}mlp.gate_proj.weight`, false, true),
          up: await get(`${p}mlp.up_proj.weight`, false, true),
          down: await get(`${p}mlp.down_proj.weight`, false, true)
        });
        ctx.progress((l + 1) / arch.numLayers * 0.05);
      }
      const finalNorm = await get("model.norm.weight");
      const head = arch.tieWordEmbeddings ? (() => {
        const t = tf3.transpose(embed);
        all.push(t);
        bytes += t.size * 4;
        return t;
      })() : await get("lm_head.weight", false, true);
      const eps = model.config.rms_norm_eps ?? 1e-6;
      if (typeof eps !== "number" || !(eps > 0)) throw new ModelError(`${arch.source}: "rms_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
      return new _LlamaModel(ctx, arch, embed, head, finalNorm, layers, bytes, eps);
    } catch (err) {
      tf3.dispose(all);
      throw err;
    }
  }
  dispose() {
    const ts = /* @__PURE__ */ new Set([this.embed, this.head, this.finalNorm]);
    for (const l of this.layers) for (const t of Object.values(l)) if (t) ts.add(t);
    this.ctx.tf.dispose([...ts]);
  }
};
function plug(t, arch) {
  const attention2 = attentionByName.get(t.attention.variant);
  if (!attention2) throw new ModelError(`attention: unknown variant "${t.attention.variant}"`);
  if (t.attention.variant === "paged") throw new ModelError('attention: "paged" reads K/V through a kv-cache block table; in model.forward use kvCache for the policy and any other attention variant');
  const position2 = positionByName.get(t.position.variant);
  if (!position2) throw new ModelError(`position: unknown variant "${t.position.variant}"`);
  if (position2.effect === "add") throw new ModelError(`position: "${t.position.variant}" adds a table to the embeddings; a Llama checkpoint is trained with a rotation (use rope or a scaling rule, none or alibi)`);
  position2.check?.(t.position, arch.headDim);
  return { attention: attention2, attentionParams: t.attention, position: position2, positionParams: t.position, cache: t.cache };
}
var HeadRows = class {
  constructor(heads2, D, cap = 64) {
    this.heads = heads2;
    this.D = D;
    this.cap = cap;
    this.data = new Float32Array(heads2 * cap * D);
  }
  heads;
  D;
  data;
  cap;
  length = 0;
  /** Appends [heads, n, D] rows. */
  append(src, n) {
    if (this.length + n > this.cap) {
      let cap = this.cap;
      while (cap < this.length + n) cap *= 2;
      const next = new Float32Array(this.heads * cap * this.D);
      for (let h = 0; h < this.heads; h++) next.set(this.data.subarray(h * this.cap * this.D, (h * this.cap + this.length) * this.D), h * cap * this.D);
      this.data = next;
      this.cap = cap;
    }
    for (let h = 0; h < this.heads; h++)
      this.data.set(src.subarray(h * n * this.D, (h + 1) * n * this.D), (h * this.cap + this.length) * this.D);
    this.length += n;
  }
  /** Keeps rows `keep` (ascending cache indices), in order. */
  keep(keep) {
    for (let h = 0; h < this.heads; h++) {
      const base = h * this.cap * this.D;
      for (let i = 0; i < keep.length; i++) {
        const from = keep[i];
        if (from !== i) this.data.copyWithin(base + i * this.D, base + from * this.D, base + (from + 1) * this.D);
      }
    }
    this.length = keep.length;
  }
  /** The rows as a host tensor [heads, length, D] (a copy). */
  tensor() {
    const out = new Float32Array(this.heads * this.length * this.D);
    for (let h = 0; h < this.heads; h++) out.set(this.data.subarray(h * this.cap * this.D, (h * this.cap + this.length) * this.D), h * this.length * this.D);
    return f32([this.heads, this.length, this.D], out, ["Hkv", "T", "D"]);
  }
  get bytes() {
    return this.heads * this.length * this.D * 4;
  }
};
var LlamaSession = class {
  constructor(model, technique) {
    this.model = model;
    this.plugged = plug(technique, model.arch);
    const { numLayers, numKvHeads, headDim } = model.arch;
    this.keys = Array.from({ length: numLayers }, () => new HeadRows(numKvHeads, headDim));
    this.values = Array.from({ length: numLayers }, () => new HeadRows(numKvHeads, headDim));
  }
  model;
  plugged;
  keys;
  values;
  /** Original positions of the cached tokens, in cache order (shared by every layer). */
  held = [];
  seen = 0;
  /** Largest number of tokens any step held. */
  peakKvTokens = 0;
  /** H2O: attention each original position has received so far. */
  score = [];
  get kvTokens() {
    return this.held.length;
  }
  /** Bytes the cache holds now, over all layers (float32; KIVI: packed codes, scales, residual). */
  get kvBytes() {
    const c = this.plugged.cache;
    const { numLayers, numKvHeads: Hkv, headDim: D } = this.model.arch;
    if (c.policy === "kivi") return numLayers * kiviBytes(this.held.length, { Hkv, D, Dv: D }, c);
    return this.keys.reduce((n, k) => n + k.bytes, 0) * 2;
  }
  async append(ids, opts2 = {}) {
    const { ctx, arch } = this.model;
    const { tf: tf3 } = ctx;
    const n = ids.length;
    if (n === 0) throw new ModelError("append: no tokens");
    for (const id of ids) if (!(id >= 0 && id < arch.vocabSize)) throw new ModelError(`token id ${id} is outside the vocabulary [0, ${arch.vocabSize})`);
    if (this.plugged.cache.policy === "streaming") this.evict(this.seen + n);
    for (let i = 0; i < n; i++) this.held.push(this.seen + i);
    this.seen += n;
    this.peakKvTokens = Math.max(this.peakKvTokens, this.held.length);
    const rope3 = this.ropeFor();
    const probes = [];
    let x = tf3.tidy(() => tf3.gather(this.model.embed, tf3.tensor1d(ids, "int32")));
    try {
      for (let l = 0; l < arch.numLayers; l++) {
        ctx.checkCancelled();
        const next = await this.layer(l, x, n, rope3, opts2.probes ? probes : void 0);
        x.dispose();
        x = next;
      }
      const rows = opts2.rows === "last" ? 1 : n;
      const logits = tf3.tidy(() => {
        const h = rows === n ? x : tf3.slice(x, [n - 1, 0], [1, -1]);
        return tf3.matMul(rmsNorm(tf3, h, this.model.finalNorm, this.model.eps), this.model.head);
      });
      const data = await logits.data();
      logits.dispose();
      this.evict(this.seen);
      return { logits: data, rows, ...opts2.probes ? { probes: stackProbes(probes) } : {} };
    } finally {
      x.dispose();
    }
  }
  /** Rotation tables for every cached key (after this append's tokens joined) and the attention bias. */
  ropeFor() {
    const { arch } = this.model;
    const { position: position2, positionParams, cache } = this.plugged;
    const m = this.held.length;
    const positions = cache.policy === "streaming" && cache.positions === "cache" ? Int32Array.from({ length: m }, (_, i) => i) : Int32Array.from(this.held);
    const plan = position2.plan(positionParams, arch.headDim, lengthOf(positions));
    const bias = { kind: "bias", terms: position2.bias?.(positionParams, arch.numHeads) ?? [] };
    if (position2.effect !== "rotate") return { positions, tables: void 0, bias };
    return { positions, tables: rotaryTables(plan, positions, 1), bias };
  }
  async layer(l, x, n, rope3, probes) {
    const { ctx, arch } = this.model;
    const { tf: tf3 } = ctx;
    const w = this.model.layers[l];
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = arch;
    const [q, k, v] = tf3.tidy(() => {
      const h = rmsNorm(tf3, x, w.inNorm, this.model.eps);
      const proj = (W, b, heads2) => {
        const y = tf3.matMul(h, W);
        return tf3.transpose(tf3.reshape(b ? tf3.add(y, b) : y, [n, heads2, D]), [1, 0, 2]);
      };
      return [proj(w.q, w.qb, H), proj(w.k, w.kb, Hkv), proj(w.v, w.vb, Hkv)];
    });
    const [kHost, vHost] = await Promise.all([k.data(), v.data()]);
    tf3.dispose([k, v]);
    this.keys[l].append(kHost, n);
    this.values[l].append(vHost, n);
    const m = this.keys[l].length;
    const qData = await q.data();
    q.dispose();
    const kAll = this.keys[l].tensor();
    let qRot = f32([H, n, D], qData, ["H", "T", "D"]);
    let kRot = kAll;
    if (rope3.tables) {
      qRot = f32([H, n, D], rotateRows(qData, H, n, D, rope3.tables, m - n), ["H", "T", "D"]);
      kRot = f32([Hkv, m, D], rotateRows(kAll.data, Hkv, m, D, rope3.tables, 0), ["Hkv", "T", "D"]);
    }
    let vAll = this.values[l].tensor();
    const s2 = { H, Hkv, Tq: n, Tk: m, D, Dv: D };
    const c = this.plugged.cache;
    if (c.policy === "kivi") {
      const q2 = kivi.simulate({ k: kRot, v: vAll }, { variant: "kivi", prefillTokens: m, ...c }, { Hkv, T: m, D, Dv: D, H: null }, () => {
      });
      kRot = q2.k;
      vAll = q2.v;
    }
    if (c.policy === "h2o") this.accumulate(qRot, kRot, s2);
    const { attention: attention2, attentionParams: ap } = this.plugged;
    const bias = rope3.bias.terms.length ? rope3.bias : void 0;
    const inner = { ...ctx, progress: () => {
    } };
    const attn = await attention2.run(inner, { q: qRot, k: kRot, v: vAll, bias }, ap, s2);
    if (probes) probes.push(await attentionProbe(inner, { q: qRot, k: kRot, bias }, ap, s2, attention2.probe?.(ap, s2) ?? exactProbe));
    return tf3.tidy(() => {
      const o = tf3.reshape(tf3.transpose(tf3.tensor3d(attn.data, [H, n, D]), [1, 0, 2]), [n, H * D]);
      let a = tf3.matMul(o, w.o);
      if (w.ob) a = tf3.add(a, w.ob);
      const h1 = tf3.add(x, a);
      const z34 = rmsNorm(tf3, h1, w.postNorm, this.model.eps);
      const g = tf3.matMul(z34, w.gate);
      const mlp = tf3.matMul(tf3.mul(tf3.mul(g, tf3.sigmoid(g)), tf3.matMul(z34, w.up)), w.down);
      return tf3.add(h1, mlp);
    });
  }
  /**
   * H2O's score: every new query's causal softmax row over the held keys (scale 1/√D, as the
   * kv-cache node's h2o), added to the keys' accumulated attention; summed over heads and layers.
   */
  accumulate(q, k, s2) {
    const { H, Hkv, Tq: n, Tk: m, D } = s2;
    const qd = q.data;
    const kd = k.data;
    const row = new Float64Array(m);
    const scale = 1 / Math.sqrt(D);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      for (let r = 0; r < n; r++) {
        const visible = m - n + r + 1;
        let max = -Infinity;
        for (let c = 0; c < visible; c++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qd[(h * n + r) * D + d] * kd[(g * m + c) * D + d];
          row[c] = dot * scale;
          if (row[c] > max) max = row[c];
        }
        let sum = 0;
        for (let c = 0; c < visible; c++) sum += row[c] = Math.exp(row[c] - max);
        for (let c = 0; c < visible; c++) {
          const p = this.held[c];
          this.score[p] = (this.score[p] ?? 0) + row[c] / sum;
        }
      }
    }
  }
  /**
   * Keeps the cached tokens the policy holds once `len` tokens have arrived (those not cached yet
   * stay out: a prefill attends to all of itself, then is trimmed after it).
   */
  evict(len) {
    const c = this.plugged.cache;
    if (c.policy === "full" || c.policy === "kivi") return;
    let keepPositions;
    if (c.policy === "h2o") {
      if (this.held.length <= c.heavyTokens + c.recentTokens) return;
      keepPositions = evict(this.held, this.score, c.recentTokens, c.heavyTokens);
    } else keepPositions = Array.from(streamingKept(len, c.sinkTokens, c.recentTokens));
    const kept = new Set(keepPositions);
    const keep = this.held.flatMap((p, i) => kept.has(p) ? [i] : []);
    if (keep.length === this.held.length) return;
    for (const rows of [...this.keys, ...this.values]) rows.keep(keep);
    this.held = keep.map((i) => this.held[i]);
  }
};
function rotateRows(x, heads2, rows, D, t, first) {
  const half = D / 2;
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads2; h++)
    for (let r = 0; r < rows; r++) {
      const o = (h * rows + r) * D;
      const tr = (first + r) * half;
      for (let i = 0; i < half; i++) {
        const c = t.cos[tr + i];
        const s2 = t.sin[tr + i];
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        out[o + i] = x1 * c - x2 * s2;
        out[o + i + half] = x2 * c + x1 * s2;
      }
    }
  return out;
}
function rmsNorm(tf3, x, w, epsilon) {
  return tf3.tidy(() => tf3.mul(tf3.mul(x, tf3.rsqrt(tf3.add(tf3.mean(tf3.square(x), -1, true), epsilon))), w));
}
function stackProbes(list) {
  const [H, P, Q] = list[0].shape;
  const out = new Float32Array(list.length * H * P * Q);
  list.forEach((t, i) => out.set(t.data, i * H * P * Q));
  return f32([list.length, H, P, Q], out, ["L", "H", "P", "P"]);
}
async function forwardTokens(model, technique, ids, opts2 = {}) {
  const V = model.arch.vocabSize;
  const T = ids.length;
  const P = Math.min(opts2.prefillTokens ?? T, T);
  const session = new LlamaSession(model, technique);
  const logits = new Float32Array(T * V);
  let probes;
  if (P > 0) {
    const r = await session.append(ids.subarray(0, P), { probes: opts2.probes });
    logits.set(r.logits, 0);
    probes = r.probes;
    opts2.onStep?.(P);
  }
  for (let t = P; t < T; t++) {
    const r = await session.append(ids.subarray(t, t + 1));
    logits.set(r.logits, t * V);
    opts2.onStep?.(t + 1);
  }
  return { logits, probes, session };
}

// src/nodes/model/reference.ts
function rmsNorm2(x, w, eps) {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = Math.fround(1 / Math.sqrt(Math.fround(ss / x.length) + eps));
  return x.map((v, i) => Math.fround(v * r) * w[i]);
}
function linear3(W, x, b) {
  const [out, inn] = W.shape;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s2 = b ? b.data[o] : 0;
    const row = o * inn;
    for (let i = 0; i < inn; i++) s2 += W.data[row + i] * x[i];
    y[o] = s2;
  }
  return y;
}
function rope2(x, off, D, n, inv, a) {
  const half = D / 2;
  for (let i = 0; i < half; i++) {
    const c = Math.cos(n * inv[i]) * a;
    const s2 = Math.sin(n * inv[i]) * a;
    const x1 = x[off + i];
    const x2 = x[off + i + half];
    x[off + i] = x1 * c - x2 * s2;
    x[off + i + half] = x2 * c + x1 * s2;
  }
}
function llamaReference(arch, w, ids, o) {
  const { numLayers: L, numHeads: H, numKvHeads: Hkv, headDim: D, hiddenSize: hid, vocabSize: V } = arch;
  const T = ids.length;
  const a = o.attentionFactor ?? 1;
  const get = (n) => w[n];
  const opt = (n) => w[n];
  const keys = Array.from({ length: L }, () => []);
  const vals = Array.from({ length: L }, () => []);
  const logits = new Float32Array(T * V);
  const E = get("model.embed_tokens.weight");
  const head = opt("lm_head.weight") && !arch.tieWordEmbeddings ? get("lm_head.weight") : E;
  let h2oHeld = [];
  const score = [];
  for (let t = 0; t < T; t++) {
    let h = Float64Array.from(E.data.subarray(ids[t] * hid, (ids[t] + 1) * hid));
    if (o.h2o) h2oHeld.push(t);
    const held = o.streaming ? Array.from(streamingKept(t + 1, o.streaming.sinkTokens, o.streaming.recentTokens)) : o.h2o ? h2oHeld : Array.from({ length: t + 1 }, (_, j) => j);
    const posOf = (c) => o.streaming ? c : held[c];
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}.`;
      const x = rmsNorm2(h, get(`${p}input_layernorm.weight`).data, o.eps);
      const q = linear3(get(`${p}self_attn.q_proj.weight`), x, opt(`${p}self_attn.q_proj.bias`));
      keys[l].push(linear3(get(`${p}self_attn.k_proj.weight`), x, opt(`${p}self_attn.k_proj.bias`)));
      vals[l].push(linear3(get(`${p}self_attn.v_proj.weight`), x, opt(`${p}self_attn.v_proj.bias`)));
      for (let hh = 0; hh < H; hh++) rope2(q, hh * D, D, posOf(held.length - 1), o.inv, a);
      const rk = held.map((j, c) => {
        const k = Float64Array.from(keys[l][j]);
        for (let g = 0; g < Hkv; g++) rope2(k, g * D, D, posOf(c), o.inv, a);
        return k;
      });
      const attn = new Float64Array(H * D);
      for (let hh = 0; hh < H; hh++) {
        const g = Math.floor(hh / (H / Hkv));
        const scores = rk.map((k) => {
          let s2 = 0;
          for (let d = 0; d < D; d++) s2 += q[hh * D + d] * k[g * D + d];
          return s2 / Math.sqrt(D);
        });
        const m = Math.max(...scores);
        const e = scores.map((s2) => Math.exp(s2 - m));
        const z35 = e.reduce((s2, v) => s2 + v, 0);
        held.forEach((j, c) => {
          for (let d = 0; d < D; d++) attn[hh * D + d] += e[c] / z35 * vals[l][j][g * D + d];
          score[j] = (score[j] ?? 0) + e[c] / z35;
        });
      }
      const ao = linear3(get(`${p}self_attn.o_proj.weight`), attn, opt(`${p}self_attn.o_proj.bias`));
      h = h.map((v, i) => v + ao[i]);
      const z34 = rmsNorm2(h, get(`${p}post_attention_layernorm.weight`).data, o.eps);
      const gate = linear3(get(`${p}mlp.gate_proj.weight`), z34);
      const up = linear3(get(`${p}mlp.up_proj.weight`), z34);
      const act = gate.map((g, i) => g / (1 + Math.exp(-g)) * up[i]);
      const down = linear3(get(`${p}mlp.down_proj.weight`), act);
      h = h.map((v, i) => v + down[i]);
    }
    if (o.h2o && h2oHeld.length > o.h2o.heavyTokens + o.h2o.recentTokens) h2oHeld = evict(h2oHeld, score, o.h2o.recentTokens, o.h2o.heavyTokens);
    const f = rmsNorm2(h, get("model.norm.weight").data, o.eps);
    logits.set(linear3(head, f), t * V);
  }
  return logits;
}

// src/nodes/model/technique.ts
import { z as z33 } from "zod";
var kvCache = z33.discriminatedUnion("policy", [
  z33.object({ policy: z33.literal("full") }),
  z33.object({
    policy: z33.literal("streaming"),
    sinkTokens: z33.number().int().min(0).default(4).describe("leading tokens always kept (attention sinks)"),
    recentTokens: z33.number().int().min(1).default(1020).describe("most recent tokens kept"),
    positions: z33.enum(["cache", "original"]).default("cache").describe(`"cache": RoPE at positions inside the cache, 0..kept\u22121 (StreamingLLM); "original": the tokens' own positions`)
  }),
  z33.object({
    policy: z33.literal("h2o"),
    heavyTokens: z33.number().int().min(0).default(128).describe("heavy hitters kept by accumulated attention (summed over heads and layers)"),
    recentTokens: z33.number().int().min(1).default(128).describe("most recent tokens always kept")
  }),
  z33.object({
    policy: z33.literal("kivi"),
    bits: z33.literal([2, 4]).default(2).describe("bits per quantized element"),
    groupSize: z33.number().int().min(1).max(4096).default(32).describe("tokens per key group, channels per value group"),
    residualTokens: z33.number().int().min(1).default(128).describe("newest tokens kept in full precision; a multiple of groupSize")
  }).refine((p) => p.residualTokens % p.groupSize === 0, { message: "residualTokens must be a multiple of groupSize", path: ["residualTokens"] })
]);
var techniqueParams = {
  attention: attention.params.prefault({ variant: "naive" }).describe('the attention kernel and its params, as on the `attention` node (e.g. {"variant": "sliding-window", "window": 256}); must be causal'),
  ropeScaling: z33.record(z33.string(), z33.unknown()).nullable().optional().describe("HF rope_scaling replacing the config's (rope_type linear, dynamic, yarn, longrope or llama3, HF key names; null: plain RoPE); left out: the config's"),
  kvCache: kvCache.prefault({ policy: "full" }).describe("KV-cache policy of incremental decoding: full; streaming (StreamingLLM sinks + recent window); h2o (heavy hitters + recent); kivi (2/4-bit keys per channel, values per token, full-precision residual). Applies from the prefill on; eviction from the first decode step"),
  prefillTokens: z33.number().int().min(0).optional().describe("tokens processed in the first step; the rest go one per decode step through the cache (left out: all in one step)")
};
function resolveTechnique(model, p) {
  const arch = forwardArch(model);
  if (!p.attention.causal) throw new ModelError('attention: a causal language model needs "causal": true');
  const scaling = p.ropeScaling === void 0 ? arch.rope.scaling : p.ropeScaling;
  const raw = ropeParams(arch, model.config, scaling);
  const parsed = position.params.safeParse(raw);
  if (!parsed.success) throw new ModelError(`rope_scaling: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { attention: p.attention, position: parsed.data, cache: p.kvCache };
}

// src/nodes/model/testdata/tiny.ts
function fnv1a(s2) {
  let h = 2166136261;
  for (const b of new TextEncoder().encode(s2)) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}
function hashedWeight(name, n, scale, offset = 0) {
  const seed = fnv1a(name);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * (2 * mix32((seed ^ mix32(i)) >>> 0) / 2 ** 32 - 1);
  return out;
}
function tinyWeights(cfg, embedScale = 1) {
  const { hidden_size: hid, intermediate_size: inter, vocab_size: vocab, num_attention_heads: H, num_key_value_heads: Hkv } = cfg;
  const D = cfg.head_dim ?? hid / H;
  const w = {};
  const add = (name, shape, scale, offset = 0) => {
    w[name] = { shape, data: hashedWeight(name, shape.reduce((a, b) => a * b, 1), scale, offset) };
  };
  add("model.embed_tokens.weight", [vocab, hid], embedScale);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const shapes = [
      ["self_attn.q_proj.weight", [H * D, hid]],
      ["self_attn.k_proj.weight", [Hkv * D, hid]],
      ["self_attn.v_proj.weight", [Hkv * D, hid]],
      ["self_attn.o_proj.weight", [hid, H * D]],
      ["mlp.gate_proj.weight", [inter, hid]],
      ["mlp.up_proj.weight", [inter, hid]],
      ["mlp.down_proj.weight", [hid, inter]]
    ];
    for (const [k, s2] of shapes) add(p + k, s2, 1 / Math.sqrt(s2[1]));
    if (cfg.attention_bias)
      for (const [k, n] of [["q_proj", H * D], ["k_proj", Hkv * D], ["v_proj", Hkv * D], ["o_proj", hid]]) add(`${p}self_attn.${k}.bias`, [n], 0.1);
    add(`${p}input_layernorm.weight`, [hid], 0.2, 1);
    add(`${p}post_attention_layernorm.weight`, [hid], 0.2, 1);
  }
  add("model.norm.weight", [hid], 0.2, 1);
  if (cfg.tie_word_embeddings === false) add("lm_head.weight", [vocab, hid], 1 / Math.sqrt(hid));
  return w;
}
var SMOLLM_135M_SHAPE = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  vocab_size: 49152,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 1e4,
  hidden_act: "silu",
  tie_word_embeddings: true,
  torch_dtype: "bfloat16"
};

// bench/model-forward.ts
var TINY = {
  model_type: "llama",
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 256,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 1e4,
  tie_word_embeddings: false
};
function memoryWeights(w) {
  return {
    names: () => Object.keys(w),
    info: (n) => w[n] ? { dtype: "F32", shape: w[n].shape } : void 0,
    read: async (n) => f32(w[n].shape, w[n].data),
    residentBytes: () => Object.values(w).reduce((s2, t) => s2 + t.data.byteLength, 0)
  };
}
var params14 = (cfg) => cfg.hidden_size * cfg.vocab_size * (cfg.tie_word_embeddings === false ? 2 : 1) + cfg.num_hidden_layers * (cfg.hidden_size * (cfg.num_attention_heads + 2 * cfg.num_key_value_heads) * (cfg.hidden_size / cfg.num_attention_heads) + cfg.hidden_size * cfg.hidden_size + 3 * cfg.hidden_size * cfg.intermediate_size + 2 * cfg.hidden_size) + cfg.hidden_size;
async function timeForward(backend, model, ids, prefillTokens) {
  const ctx = await ctxFor(backend);
  const technique = resolveTechnique(model, { attention: { variant: "naive", causal: true }, kvCache: { policy: "full" } });
  const t0 = performance.now();
  const m = await LlamaModel.load(ctx, model);
  const loadMs = performance.now() - t0;
  try {
    await forwardTokens(m, technique, ids.subarray(0, Math.min(8, ids.length)));
    const times = [];
    for (let rep = 0; rep < 2; rep++) {
      const t1 = performance.now();
      await forwardTokens(m, technique, ids, { prefillTokens });
      times.push(performance.now() - t1);
    }
    return { ms: Math.min(...times), loadMs };
  } finally {
    m.dispose();
  }
}
async function benchModelForward() {
  const rows = [];
  for (const [name, cfg, T, refT, decodeT] of [
    ["tiny (2 layers, hidden 64, vocab 256)", TINY, 256, 64, 64],
    ["SmolLM-135M shape (30 layers, hidden 576, vocab 49152)", SMOLLM_135M_SHAPE, 64, 8, 16]
  ]) {
    const w = tinyWeights(cfg);
    const model = { kind: "model", config: cfg, weights: memoryWeights(w), source: name };
    const ids = Int32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % cfg.vocab_size);
    const t0 = performance.now();
    llamaReference(parseModelConfig(cfg), w, ids.subarray(0, refT), { inv: ropeInv(1e4, cfg.hidden_size / cfg.num_attention_heads), eps: 1e-5 });
    const refTokS = refT / (performance.now() - t0) * 1e3;
    rows.push(`| ${name} | ${(params14(cfg) / 1e6).toFixed(1)}M | plain-TS reference (token by token) | ${refT} | ${refTokS.toFixed(1)} | 1.0\xD7 |`);
    for (const backend of ["cpu", "wasm"]) {
      const prefill = await timeForward(backend, model, ids);
      const tokS = T / prefill.ms * 1e3;
      rows.push(`| ${name} | | ${backend}: prefill of ${T} | ${T} | ${tokS.toFixed(1)} | ${(tokS / refTokS).toFixed(1)}\xD7 |`);
      const dec = await timeForward(backend, model, ids.subarray(0, decodeT), 1);
      const decS = (decodeT - 1) / dec.ms * 1e3;
      rows.push(`| ${name} | | ${backend}: decode, 1 token per step (full cache) | ${decodeT} | ${decS.toFixed(1)} | ${(decS / refTokS).toFixed(1)}\xD7 |`);
      process.stderr.write(`  ${name} ${backend}: prefill ${tokS.toFixed(1)} tok/s, decode ${decS.toFixed(1)} tok/s (weights upload ${prefill.loadMs.toFixed(0)} ms)
`);
    }
  }
  return [
    "## Model forward pass (model.forward)",
    "",
    "Llama forward throughput in tokens per second: prefill (all tokens in one pass, `naive` attention) and decode (a one-token",
    "prefill, then one token per step through a full KV cache, each step a complete pass over every layer), on the cpu and wasm",
    "backends, against the plain-TypeScript reference forward (float64 loops, one token at a time) measured in the same run. The",
    "135M-shaped model has SmolLM-135M's shape (hidden 576, 30 layers, 9 heads, 3 kv heads, intermediate 1536, vocab 49152, tied",
    "head) with generated weights. Best of two runs after a warm-up; the weights are uploaded to the backend once per node run (not",
    "counted). `npm run bench -- --only model-forward`.",
    "",
    "| model | params | implementation | tokens | tokens/s | vs reference |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows
  ].join("\n");
}

// ../../tmp/bench-h10/entry.ts
import { writeFileSync } from "node:fs";
var s = await benchModelForward();
writeFileSync("/tmp/bench-h10/section.md", s + "\n");
console.log(s);
