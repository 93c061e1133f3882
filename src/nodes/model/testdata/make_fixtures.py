"""Makes the committed fixtures of the model family's tests (CI has no Python; run this by hand).

    pip install numpy safetensors && python3 src/nodes/model/testdata/make_fixtures.py

1. safetensors files written by the reference implementation (the `safetensors` package, whose
   writer is Rust), for the TypeScript reader: one file with F32/F16/BF16 tensors and metadata (the
   engine's reader test: src/engine/io/testdata/mixed.safetensors, values in mixed.expected.json
   there), and a two-shard checkpoint with its model.safetensors.index.json (model.load's test;
   values in expected.json here). Each expected file holds the values each tensor must read as
   (float32). (The writer's header key order can differ between runs, so mixed.safetensors may come
   out with other bytes and the same tensors; the tests read by name.)
2. Expected logits of Hugging Face's LlamaForCausalLM on tiny random models, from an independent
   NumPy transcription of transformers' modeling_llama.py / modeling_rope_utils.py (float32, as HF
   runs on CPU). The weights are not committed: both sides generate them from the same integer hash
   (`weight` below, `tinyWeights` in tiny.ts), and `checksums` guard against the two drifting apart.
"""
import json
import math
import os

import numpy as np
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
# The engine's own fixtures: its tests do not read src/nodes.
ENGINE_IO = os.path.join(HERE, "..", "..", "..", "engine", "io", "testdata")
M = 0xFFFFFFFF


# ---------------------------------------------------------------- weights shared with tiny.ts
def mix32(a):
    """splitmix32's finaliser, on uint64 arrays holding 32-bit values (src/nodes/common/random.ts)."""
    a = (a + 0x9E3779B9) & M
    z = a
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M
    return (z ^ (z >> 16)) & M


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & M
    return h


def weight(name, shape, scale, offset=0.0):
    """offset + scale * u, u uniform in [-1, 1) from hash(name, index)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    seed = np.uint64(fnv1a(name))
    u = mix32(seed ^ mix32(i)).astype(np.float64) / 2.0**32
    return (offset + scale * (2.0 * u - 1.0)).astype(np.float32).reshape(shape)


def tiny_weights(cfg):
    """Every tensor of a Llama checkpoint, HF names, with the scales tiny.ts uses."""
    hid, inter, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or hid // H
    w = {"model.embed_tokens.weight": weight("model.embed_tokens.weight", (vocab, hid), 1.0)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        shapes = {
            "self_attn.q_proj.weight": (H * D, hid),
            "self_attn.k_proj.weight": (Hkv * D, hid),
            "self_attn.v_proj.weight": (Hkv * D, hid),
            "self_attn.o_proj.weight": (hid, H * D),
            "mlp.gate_proj.weight": (inter, hid),
            "mlp.up_proj.weight": (inter, hid),
            "mlp.down_proj.weight": (hid, inter),
        }
        for k, s in shapes.items():
            w[p + k] = weight(p + k, s, 1.0 / math.sqrt(s[1]))
        if cfg.get("attention_bias"):
            for k, n in (("q_proj", H * D), ("k_proj", Hkv * D), ("v_proj", Hkv * D), ("o_proj", hid)):
                w[p + f"self_attn.{k}.bias"] = weight(p + f"self_attn.{k}.bias", (n,), 0.1)
        w[p + "input_layernorm.weight"] = weight(p + "input_layernorm.weight", (hid,), 0.2, 1.0)
        w[p + "post_attention_layernorm.weight"] = weight(p + "post_attention_layernorm.weight", (hid,), 0.2, 1.0)
    w["model.norm.weight"] = weight("model.norm.weight", (hid,), 0.2, 1.0)
    if not cfg.get("tie_word_embeddings", True):
        w["lm_head.weight"] = weight("lm_head.weight", (vocab, hid), 1.0 / math.sqrt(hid))
    return w


# ---------------------------------------------------------------- HF LlamaForCausalLM in NumPy
def rope_parameters(cfg, seq_len):
    """transformers.modeling_rope_utils: (inv_freq float32, attention_factor) for rope_scaling."""
    base = cfg.get("rope_theta", 10000.0)
    H = cfg["num_attention_heads"]
    dim = cfg.get("head_dim") or cfg["hidden_size"] // H
    rs = cfg.get("rope_scaling") or {}
    rope_type = rs.get("rope_type", rs.get("type", "default"))

    def default_inv(b):
        return (1.0 / (np.float32(b) ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / np.float32(dim)))).astype(np.float32)

    if rope_type == "default":
        return default_inv(base), 1.0
    if rope_type == "linear":
        return (default_inv(base) / np.float32(rs["factor"])).astype(np.float32), 1.0
    if rope_type == "dynamic":
        mpe = cfg["max_position_embeddings"]
        seq_len = max(seq_len, mpe)
        factor = rs["factor"]
        b = base * ((factor * seq_len / mpe) - (factor - 1)) ** (dim / (dim - 2))
        return default_inv(b), 1.0
    if rope_type == "llama3":
        inv = default_inv(base)
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = np.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) & ~(wavelen > low_wl)
        return np.where(medium, smoothed, inv_l).astype(np.float32), 1.0
    if rope_type == "yarn":
        factor = rs["factor"]
        orig = rs.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        attn = rs.get("attention_factor") or (0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0)
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr_dim(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(corr_dim(beta_fast)), 0)
        high = min(math.ceil(corr_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        pos_freqs = np.float32(base) ** (np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / np.float32(dim))
        extrapolation = 1.0 / pos_freqs
        interpolation = 1.0 / (factor * pos_freqs)
        ramp = np.clip((np.arange(dim // 2, dtype=np.float32) - low) / (high - low), 0, 1)
        extra_factor = 1 - ramp
        inv = interpolation * (1 - extra_factor) + extrapolation * extra_factor
        return inv.astype(np.float32), attn
    raise ValueError(f"rope_type {rope_type} is not in this reference")


def rms_norm(x, w, eps):
    var = np.mean(np.square(x, dtype=np.float32), axis=-1, keepdims=True)
    return w * (x * (1.0 / np.sqrt(var + np.float32(eps))).astype(np.float32))


def rotate_half(x):
    d = x.shape[-1] // 2
    return np.concatenate([-x[..., d:], x[..., :d]], axis=-1)


def linear(x, w, name):
    y = x @ w[name + ".weight"].T
    b = w.get(name + ".bias")
    return y if b is None else y + b


def llama_forward(cfg, w, ids):
    T = len(ids)
    hid = cfg["hidden_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or hid // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    pos = np.arange(T, dtype=np.float32)
    inv, attn_factor = rope_parameters(cfg, T)
    freqs = (pos[:, None] * inv[None, :]).astype(np.float32)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos = (np.cos(emb) * np.float32(attn_factor)).astype(np.float32)
    sin = (np.sin(emb) * np.float32(attn_factor)).astype(np.float32)
    mask = np.triu(np.full((T, T), np.finfo(np.float32).min, dtype=np.float32), 1)

    h = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = linear(x, w, p + "self_attn.q_proj").reshape(T, H, D).transpose(1, 0, 2)
        k = linear(x, w, p + "self_attn.k_proj").reshape(T, Hkv, D).transpose(1, 0, 2)
        v = linear(x, w, p + "self_attn.v_proj").reshape(T, Hkv, D).transpose(1, 0, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, H // Hkv, axis=0)  # repeat_kv: head h reads kv head h // (H / Hkv)
        v = np.repeat(v, H // Hkv, axis=0)
        scores = (q @ k.transpose(0, 2, 1)) * np.float32(D**-0.5) + mask
        scores = scores - scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs = (probs / probs.sum(-1, keepdims=True)).astype(np.float32)
        o = (probs @ v).transpose(1, 0, 2).reshape(T, H * D)
        h = h + linear(o, w, p + "self_attn.o_proj")
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        g = linear(x, w, p + "mlp.gate_proj")
        silu = g / (1.0 + np.exp(-g))
        h = h + linear(silu * linear(x, w, p + "mlp.up_proj"), w, p + "mlp.down_proj")
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return (h @ head.T).astype(np.float32)


MODELS = {
    # Untied head, GQA 4:2, plain RoPE.
    "llama-a": {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": False, "attention_bias": False, "torch_dtype": "float32",
    },
    # Tied head, Llama 3 rope_scaling, explicit head_dim, q/k/v/o biases (Qwen2-style projections).
    "llama-b": {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 48, "intermediate_size": 96,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 256,
        "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 500000.0, "hidden_act": "silu",
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 32},
        "tie_word_embeddings": True, "attention_bias": True, "torch_dtype": "float32",
    },
    # YaRN (Qwen2.5-style rope_scaling), beyond its original length of 16: max_position_embeddings = factor × original,
    # so HF's versions that take the factor from that ratio agree.
    "llama-c": {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
        "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
        "tie_word_embeddings": True, "attention_bias": False, "torch_dtype": "float32",
    },
    # Dynamic NTK (legacy "type" key), with 24 tokens past max_position_embeddings = 16.
    "llama-d": {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 256,
        "max_position_embeddings": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
        "rope_scaling": {"type": "dynamic", "factor": 2.0},
        "tie_word_embeddings": False, "attention_bias": False, "torch_dtype": "float32",
    },
}
TOKENS = [1, 200, 17, 42, 255, 3, 99, 128, 7, 64, 31, 250, 0, 5, 77, 180, 12, 13, 14, 240, 66, 9, 101, 33]


def make_models():
    out = {"tokens": TOKENS, "models": {}}
    for name, cfg in MODELS.items():
        w = tiny_weights(cfg)
        logits = llama_forward(cfg, w, np.array(TOKENS))
        np.save(os.path.join(HERE, f"{name}.logits.npy"), logits)
        out["models"][name] = {
            "config": cfg,
            "checksums": {k: float(np.sum(v.astype(np.float64))) for k, v in sorted(w.items())},
        }
    with open(os.path.join(HERE, "llama-reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- reader fixtures
def bf16_bits(x):
    """float32 → bfloat16 bits, round to nearest even (torch's conversion)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def make_reader_fixtures():
    a = np.array([[1.0, -2.5, 3.25], [1e-3, 65504.0, -0.0]], dtype=np.float32)
    b = np.array([0.1, -1.0, 6.1e-5, 1000.5], dtype=np.float16)
    c = np.array([[3.14159, -1e-3], [255.0, 1e30]], dtype=np.float32)
    # The raw writer takes buffers by address: bfloat16 has no NumPy dtype, so its bits go in as uint16.
    bufs = {"a.weight": (a, "float32"), "b.bias": (b, "float16"), "c": (bf16_bits(c), "bfloat16"), "empty": (np.zeros((0, 3), np.float32), "float32")}
    shapes = {"a.weight": [2, 3], "b.bias": [4], "c": [2, 2], "empty": [0, 3]}
    specs = {k: TensorSpec(dtype=dt, shape=shapes[k], data_ptr=arr.ctypes.data, data_len=arr.nbytes) for k, (arr, dt) in bufs.items()}
    serialize_file(specs, os.path.join(ENGINE_IO, "mixed.safetensors"), metadata={"format": "pt", "writer": "make_fixtures.py"})
    c_read = (bf16_bits(c).astype(np.uint32) << 16).view(np.float32)
    mixed = {
        "a.weight": {"dtype": "F32", "shape": [2, 3], "values": a.ravel().tolist()},
        "b.bias": {"dtype": "F16", "shape": [4], "values": b.astype(np.float32).ravel().tolist()},
        "c": {"dtype": "BF16", "shape": [2, 2], "values": c_read.ravel().tolist()},
        "empty": {"dtype": "F32", "shape": [0, 3], "values": []},
    }
    with open(os.path.join(ENGINE_IO, "mixed.expected.json"), "w") as f:
        json.dump(mixed, f, indent=1)
        f.write("\n")
    expected = {}
    # Two shards and their index, as transformers' save_pretrained writes them.
    s1 = {"model.embed_tokens.weight": np.arange(12, dtype=np.float32).reshape(4, 3) / 8}
    s2 = {"model.norm.weight": np.array([1.0, 0.5, -0.25], dtype=np.float32), "lm_head.weight": -np.arange(12, dtype=np.float32).reshape(4, 3)}
    save_file(s1, os.path.join(HERE, "sharded", "model-00001-of-00002.safetensors"), metadata={"format": "pt"})
    save_file(s2, os.path.join(HERE, "sharded", "model-00002-of-00002.safetensors"), metadata={"format": "pt"})
    index = {
        "metadata": {"total_size": 4 * (12 + 3 + 12)},
        "weight_map": {**{k: "model-00001-of-00002.safetensors" for k in s1}, **{k: "model-00002-of-00002.safetensors" for k in s2}},
    }
    with open(os.path.join(HERE, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    for name, arr in {**s1, **s2}.items():
        expected[name] = {"dtype": "F32", "shape": list(arr.shape), "values": arr.ravel().tolist()}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "sharded"), exist_ok=True)
    os.makedirs(ENGINE_IO, exist_ok=True)
    make_reader_fixtures()
    make_models()
