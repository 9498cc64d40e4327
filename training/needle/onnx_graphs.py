"""Write Needle's encoder.onnx / decoder.onnx directly with the onnx helper (graph I/O: models/FORMAT.md).

Why not torch.onnx.export: a decoder step of this model is a few hundred tiny ops when traced; here each
layer is a handful of onnxruntime contrib ops instead (see docs in export.py and the bench for numbers).

Graph design (fp32 and int8 share it; int8 swaps every projection MatMul for com.microsoft.MatMulNBits):
- ZCRMSNorm -> SimplifiedLayerNormalization with weight (1 + g); a residual add followed by a norm ->
  com.microsoft.SkipSimplifiedLayerNormalization (its 4th output is the residual sum).
- sigmoid(gate) is folded into out_proj; Q/K/V projections are one matmul (Split after);
  1/sqrt(head_dim) is folded into the q-norm weight when sqrt(head_dim) is a power of two (exact).
- QK-norm is an SLN over the head axis of a [.., heads, head_dim] view.
- Encoder attention ("mha", the default): per group of kv heads, q and k normed and rotated
  (com.microsoft.RotaryEmbedding), each kv head repeated for its G query heads (query heads j*G..j*G+G-1 x kv
  head j) and com.microsoft.MultiHeadAttention with no mask, which onnxruntime's CPU kernel runs as MLAS flash
  attention (tiled: no [heads, T, T] score matrix; measured with onnxruntime-node 1.30, one op of 8 heads at
  T=1024/2048/4096: +27/+49/+81 MB peak RSS vs +70/+200/+632 MB with a key_padding_mask and +53/+170/+588 MB
  for GroupQueryAttention, and 2-3x faster). With no mask the layers run on the real tokens: the graph cuts the
  input to sum(attention_mask) tokens and pads the hidden states back with zeros. Or
  com.microsoft.GroupQueryAttention (rotary + attention in one op; its scores are [heads, T, T]) or explicit
  MatMul attention with the GQA grouping done by a reshape.
- Decoder self-attention, decoder I/O 2 (`dec_cache="rows"`, the default): the cache is rows [1, P, kv_dim]
  per layer held by the runtime; the step rotates q and k (com.microsoft.RotaryEmbedding), appends its rows
  (Concat) and runs ONNX Attention (opset 23, GQA by q_num_heads/kv_num_heads, a causal bias for runs of n > 1);
  every layer's new k/v rows leave as one output, `new_self_kv`. Decoder I/O 1 (`dec_cache="present"`):
  GroupQueryAttention or MatMul attention over [1, KV, P, hd] past/present tensors.
- Decoder I/O 3 (`top_k` > 0, rows cache): also `top_logits`/`top_ids` [1, n, K] (TopK of the logits, highest
  first) and `logsumexp` [1, n] (the top logit minus its LogSoftmax: MLAS-vectorised, unlike ReduceLogSumExp;
  NaN when a logit is NaN or +Inf). `logits` stays an output: onnxruntime computes and copies out only what a
  run asks for, so the engine asks for it only in the rare step the K cannot decide.
- Masks: the encoder's MHA and GQA take the real length from attention_mask (its sum), so padding must be at
  the end (batch 1); MatMul attention paths and the decoder's cross-attention add a
  -1e9 bias where the mask is 0.
- The encoder emits every decoder layer's cross K (k-normed; transposed [1,KV,hd,T] for the MatMul
  cross-attention, [1,KV,T,hd] for `cross_attention="attention"`) and V, so a decoder step only reads them.
- int8 / int4: weights are quantised symmetrically per block along K (zero point 128 / 8, the MatMulNBits
  defaults; int4 packs two weights per byte, the even index in the low nibble); the block is `block_size`
  (default 128 for int8, 32 for int4) halved until it divides K; the embedding is stored once as uint8 rows +
  per-block scales, read by both com.microsoft.GatherBlockQuantized (input embedding) and the tied output
  MatMulNBits.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .config import NeedleConfig
from .tree import DEC, ENC

MS = "com.microsoft"
EPS = 1e-6
NEG = -1e9


@dataclass(frozen=True)
class GraphOptions:
    quant: str = "fp32"                 # "fp32" | "int8" | "int4" (weight-only, MatMulNBits bits 8 / 4)
    block_size: int = 0                 # quantization block along K (per matrix: the largest power of two <= this
    #                                     dividing K); 0: the quant's default, 128 for int8, 32 for int4
    accuracy_level: int = 4             # MatMulNBits: 4 = int8 compute
    enc_attention: str = "mha"          # "mha" | "gqa" | "matmul"; "mha": com.microsoft.MultiHeadAttention without a
    #                                     mask, onnxruntime's tiled flash kernel (no [heads, T, T] scores); the
    #                                     graph cuts a right-padded input to its real length (build_encoder)
    dec_attention: str = "attention"    # decoder self-attention: "gqa" | "matmul" | "attention" (ONNX Attention-23)
    dec_cache: str = "rows"             # "rows": past_self_k/v_i [1, P, kv_dim] in, new_self_kv rows out;
    #                                     "present": past/present_self_k/v_i [1, KV, P, hd] (format io 1)
    cross_attention: str = "matmul"     # "matmul" (K^T layout [1,KV,hd,T]) | "attention" (Attention-23, [1,KV,T,hd])
    shared_embedding: bool = True       # int8: one uint8 table for the gather and the output matmul
    enc_gqa_groups: int = 4             # encoder: attention ops per layer ("gqa"/"mha"; kv heads split in groups, gcd
    #                                     with num_kv_heads): one kv head's scores at a time, less peak memory
    enc_qkv: str = "grouped"            # encoder GQA/MHA: "grouped" (a q|k|v matmul per attention op, so only that group's
    #                                     projections are in flight: 31 -> 22 MB of intermediates at 1024 tokens
    #                                     for 26M, ~3% slower) | "fused" (one per layer, Split after)
    cross_kv: str = "graph"             # "graph": the encoder outputs its final hidden states and a third graph
    #                                     (cross.onnx, build_cross) projects one decoder layer's cross K/V per run;
    #                                     "per_layer" | "fused": every layer's cross K/V are encoder outputs
    top_k: int = 0                      # > 0: decoder I/O 3 (with dec_cache "rows"): a step also gives the top_k
    #                                     logits per token (top_logits, top_ids) and logsumexp; `logits` stays an
    #                                     output, computed only when a run asks for it

    def __post_init__(self) -> None:
        if self.quant not in ("fp32", "int8", "int4"):
            raise ValueError(f"quant must be fp32, int8 or int4, got {self.quant!r}")
        if self.enc_attention not in ("gqa", "matmul", "mha"):
            raise ValueError("enc_attention must be 'gqa', 'matmul' or 'mha'")
        if self.dec_attention not in ("gqa", "matmul", "attention"):
            raise ValueError("dec_attention must be 'gqa', 'matmul' or 'attention'")
        if self.dec_cache not in ("rows", "present"):
            raise ValueError("dec_cache must be 'rows' or 'present'")
        if self.dec_cache == "rows" and self.dec_attention == "gqa":
            raise ValueError("dec_cache 'rows' needs dec_attention 'attention' or 'matmul' (GroupQueryAttention "
                             "takes its past as [1, KV, P, hd] and hands back the whole present)")
        if self.dec_cache == "present" and self.dec_attention == "attention":
            raise ValueError("dec_attention 'attention' is written for dec_cache 'rows'")
        if self.cross_attention not in ("matmul", "attention"):
            raise ValueError("cross_attention must be 'matmul' or 'attention'")
        if self.enc_qkv not in ("grouped", "fused"):
            raise ValueError("enc_qkv must be 'grouped' or 'fused'")
        if self.cross_kv not in ("graph", "per_layer", "fused"):
            raise ValueError("cross_kv must be 'graph', 'per_layer' or 'fused'")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if self.top_k and self.dec_cache != "rows":
            raise ValueError("top_k (decoder I/O 3) needs dec_cache 'rows'")
        if self.block_size and (self.block_size < 16 or self.block_size & (self.block_size - 1)):
            raise ValueError(f"block_size must be a power of two >= 16 (or 0: the default), got {self.block_size}")

    @property
    def bits(self) -> int:
        """MatMulNBits / GatherBlockQuantized bits of a quantized graph."""
        return 4 if self.quant == "int4" else 8

    @property
    def block(self) -> int:
        """The block size asked for: block_size, or the quant's default (128 for int8, 32 for int4)."""
        return self.block_size or (32 if self.quant == "int4" else 128)

    def block_for(self, K: int) -> int:
        """Quantization block for a matrix with K rows: `block`, halved until it divides K (at least 16)."""
        b = self.block
        while K % b and b > 16:
            b //= 2
        if K % b:
            raise ValueError(f"K={K} is not a multiple of 16: no quantization block fits")
        return b

    @property
    def io_version(self) -> int:
        """models/FORMAT.md decoder I/O: 1 = per-layer past/present, 2 = cache rows (see dec_cache),
        3 = cache rows + top-K logits and log-sum-exp per token (see top_k)."""
        if self.dec_cache != "rows":
            return 1
        return 3 if self.top_k else 2

    @property
    def encoder_padding(self) -> str:
        """config.json `encoder_padding` (models/FORMAT.md): "none" when padding the encoder's input only costs
        (the "mha" encoder runs on the real tokens whatever the input's length), else "bucket"."""
        return "none" if self.enc_attention == "mha" else "bucket"

    @property
    def cross_k_layout(self) -> str:
        return "bnsh" if self.cross_attention == "attention" else "bnhs"


# ---------------------------------------------------------------------------------------------------------
# weight preparation
# ---------------------------------------------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def qk_scale(head_dim: int) -> tuple[float, bool]:
    """(1/sqrt(head_dim), whether folding it into a weight is exact, i.e. sqrt(head_dim) is a power of 2)."""
    s = 1.0 / math.sqrt(head_dim)
    m, _ = math.frexp(s)
    return s, m == 0.5


def quantize_rows(w_nk: np.ndarray, block: int, bits: int = 8,
                  scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per block along the last axis: [N, K] float -> (uint8 codes, scales [N, K/block]).
    bits 8: [N, K] bytes q + 128; bits 4: [N, K/2] bytes, q + 8 in [0, 15], element 2i in the low nibble of byte
    i (MatMulNBits' and GatherBlockQuantized's layout; their default zero points are 128 and 8). `scale` [N, K/block]
    (e.g. from fit_scales): else each block's max |w| maps to the largest positive code (127 | 7)."""
    N, K = w_nk.shape
    if K % block:
        raise ValueError(f"K={K} is not a multiple of block_size={block}")
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    top = (1 << (bits - 1)) - 1                                   # 127 | 7
    b = w_nk.reshape(N, K // block, block).astype(np.float64)
    if scale is None:
        amax = np.abs(b).max(axis=-1)
        scale = np.where(amax > 0, amax / top, 1.0)
    lo = -top if bits == 8 else -top - 1                          # int4 may use code 0 (-8) too
    q = (np.clip(np.rint(b / scale[..., None]), lo, top).astype(np.int32) + top + 1).reshape(N, K)
    if bits == 4:
        q = q[:, 0::2] | (q[:, 1::2] << 4)
    return q.astype(np.uint8), np.asarray(scale, np.float32)


def fit_scales(w_nk: np.ndarray, block: int, bits: int) -> np.ndarray:
    """Per-block scales [N, K/block] that minimise the squared rounding error, for int4 (16 levels are few: the
    max-|w| scale spends them on one outlier). Tries scales from max|w| / 5 to max|w| / 8.5, refits each by least
    squares for the codes it rounds to (s = sum(w q) / sum(q^2)) and keeps the best; the max-|w| scale is among
    them, so no block gets worse than with it."""
    N, K = w_nk.shape
    top, lo = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    b = w_nk.reshape(N, K // block, block).astype(np.float64)
    amax = np.abs(b).max(axis=-1)
    safe = np.where(amax > 0, amax, 1.0)
    best_s = safe / top
    best_e = np.full(amax.shape, np.inf)
    for d in np.arange(top - 2.0, top + 1.75, 0.25):
        s = safe / d
        q = np.clip(np.rint(b / s[..., None]), lo, top)
        qq = (q * q).sum(-1)
        fit = np.where(qq > 0, (b * q).sum(-1) / np.maximum(qq, 1e-30), s)
        e = ((b - fit[..., None] * q) ** 2).sum(-1)
        better = e < best_e
        best_e = np.where(better, e, best_e)
        best_s = np.where(better, fit, best_s)
    return np.where(amax > 0, best_s, 1.0).astype(np.float32)


def quantize(w_nk: np.ndarray, block: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The exporter's quantization: int8 with the max-|w| scale per block, int4 with fitted scales."""
    return quantize_rows(w_nk, block, bits, fit_scales(w_nk, block, bits) if bits == 4 else None)


def dequantize_rows(q: np.ndarray, scale: np.ndarray, block: int, bits: int = 8) -> np.ndarray:
    """quantize_rows' inverse: (codes, scales) -> [N, K] float32."""
    if bits == 4:
        q = np.stack([q & 15, q >> 4], axis=-1).reshape(q.shape[0], -1)
    N, K = q.shape
    zero = float(1 << (bits - 1))
    return ((q.reshape(N, K // block, block).astype(np.float32) - zero) * scale[..., None]).reshape(N, K)


# ---------------------------------------------------------------------------------------------------------
# a tiny graph builder
# ---------------------------------------------------------------------------------------------------------
class Builder:
    def __init__(self, opts: GraphOptions, prefix: str = ""):
        self.opts = opts
        self.prefix = prefix   # for subgraphs: their value and initializer names stay distinct from the outer graph's
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, onnx.TensorProto] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._n = 0

    def fresh(self, base: str) -> str:
        self._n += 1
        return f"{self.prefix}{base}_{self._n}"

    def subgraph(self, name: str, outputs: Sequence[tuple[str, int, list]]) -> onnx.GraphProto:
        """This builder's nodes and initializers as a subgraph (an If branch) with the given outputs."""
        return helper.make_graph(self.nodes, name, [], [helper.make_tensor_value_info(n, e, sh) for n, e, sh in outputs],
                                 list(self.inits.values()))

    def const(self, arr: np.ndarray, name: str | None = None) -> str:
        name = name or self.fresh("c")
        if name in self.inits:
            raise ValueError(f"duplicate initializer {name}")
        self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(arr), name)
        return name

    def i64(self, values: Sequence[int], name: str | None = None) -> str:
        key = self.prefix + (name or "i64_" + "_".join(str(v).replace("-", "m") for v in values))
        if key not in self.inits:
            self.const(np.array(values, dtype=np.int64), key)
        return key

    def scalar_f(self, v: float, name: str) -> str:
        name = self.prefix + name
        if name not in self.inits:
            self.const(np.array(v, dtype=np.float32), name)
        return name

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1, domain: str | None = None,
           name: str | None = None, outputs: Sequence[str] | None = None, **attrs):
        outs = list(outputs) if outputs is not None else [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name or self.fresh(op_type),
                                           domain=domain, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def add_input(self, name: str, elem: int, shape: list) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, shape))
        return name

    def add_output(self, name: str, elem: int, shape: list) -> None:
        self.outputs.append(helper.make_tensor_value_info(name, elem, shape))

    # -- layers ---------------------------------------------------------------------------------------
    def sln(self, x: str, w: np.ndarray | str, out: str | None = None) -> str:
        wn = w if isinstance(w, str) else self.const(w.astype(np.float32))
        return self.op("SimplifiedLayerNormalization", [x, wn], axis=-1, epsilon=EPS, stash_type=1,
                       outputs=[out] if out else None)

    def skip_sln(self, x: str, skip: str, w: np.ndarray) -> tuple[str, str]:
        """-> (normalised, residual sum x + skip)."""
        out, s = self.fresh("sln"), self.fresh("resid")
        self.op("SkipSimplifiedLayerNormalization", [x, skip, self.const(w.astype(np.float32))],
                domain=MS, epsilon=EPS, outputs=[out, "", "", s])
        return out, s

    def linear(self, x: str, w_kn: np.ndarray, name: str) -> str:
        """x @ W with W [K, N] float (y = x W)."""
        o = self.opts
        if o.quant == "fp32":
            return self.op("MatMul", [x, self.const(w_kn.astype(np.float32), name)])
        K, N = w_kn.shape
        q, s = quantize(np.ascontiguousarray(w_kn.T), o.block_for(K), o.bits)
        return self.matmul_nbits(x, q, s, K, N, name)

    def matmul_nbits(self, x: str, q_nk: np.ndarray | str, s_nk: np.ndarray, K: int, N: int, name: str) -> str:
        o = self.opts
        blk = o.block_for(K)
        kb = K // blk
        qn = q_nk if isinstance(q_nk, str) else self.const(q_nk.reshape(N, kb, blk * o.bits // 8), name + "_q")
        sn = self.const(s_nk.reshape(N * kb), name + "_s")
        return self.op("MatMulNBits", [x, qn, sn], domain=MS, K=K, N=N, bits=o.bits, block_size=blk,
                       accuracy_level=o.accuracy_level)

    def model(self, name: str) -> onnx.ModelProto:
        # ONNX's Attention op exists from opset 23 (IR 10); graphs without it stay at opset 17 / IR 8
        opset, ir = (23, 10) if any(n.op_type == "Attention" and not n.domain for n in self.nodes) else (17, 8)
        g = helper.make_graph(self.nodes, name, self.inputs, self.outputs, list(self.inits.values()))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)],
                              producer_name="needled-export")
        m.ir_version = ir
        return m


# ---------------------------------------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------------------------------------
def rope_cache(n: int, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    half = head_dim // 2
    inv = 1.0 / (theta ** (np.arange(half, dtype=np.float64) * 2.0 / head_dim))
    ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


class _Weights:
    """Prepared (folded) weights from a flat float32 checkpoint tree."""

    def __init__(self, flat: dict[str, np.ndarray], c: NeedleConfig):
        self.f, self.c = flat, c
        self.scale, self.exact = qk_scale(c.head_dim)

    def qkv(self, pre: str, i: int) -> np.ndarray:
        f = self.f
        return np.concatenate([f[f"{pre}/q_proj/kernel"][i], f[f"{pre}/k_proj/kernel"][i],
                               f[f"{pre}/v_proj/kernel"][i]], axis=1)

    def q_norm(self, pre: str, i: int) -> np.ndarray:
        w = 1.0 + self.f[f"{pre}/q_norm/scale"][i].astype(np.float64)
        return (w * self.scale if self.exact else w).astype(np.float32)

    def scale_q(self, b: "Builder", q: str) -> str:
        """For the MatMul attention paths: q * 1/sqrt(head_dim) unless the q-norm weight already carries it."""
        return q if self.exact else b.op("Mul", [q, b.scalar_f(self.scale, "qk_scale")])

    def k_norm(self, pre: str, i: int) -> np.ndarray:
        return (1.0 + self.f[f"{pre}/k_norm/scale"][i]).astype(np.float32)

    def out(self, pre: str, i: int, gate: np.ndarray) -> np.ndarray:
        return (self.f[f"{pre}/out_proj/kernel"][i].astype(np.float64) * sigmoid(gate[i])).astype(np.float32)

    def norm(self, path: str, i: int | None = None) -> np.ndarray:
        g = self.f[path] if i is None else self.f[path][i]
        return (1.0 + g).astype(np.float32)


def _embed(b: Builder, w: _Weights, ids: str) -> str:
    c, o = w.c, b.opts
    sq = math.sqrt(c.d_model)
    E = w.f["embedding/embedding"]
    if o.quant == "fp32":
        g = b.op("Gather", [b.const(E.astype(np.float32), "embedding_table"), ids], axis=0)
        return b.op("Mul", [g, b.scalar_f(sq, "sqrt_d")])
    blk = o.block_for(c.d_model)
    q, s = quantize(E, blk, o.bits)
    kb = c.d_model // blk
    table = b.const(q.reshape(c.vocab_size, kb, blk * o.bits // 8), "embedding_q")
    b.shared_embedding = (table, s)  # type: ignore[attr-defined]
    g = b.op("GatherBlockQuantized", [table, ids, b.const((s * sq).reshape(c.vocab_size, kb, 1).astype(np.float32),
                                                          "embedding_gather_s")],
             domain=MS, bits=o.bits, block_size=blk, gather_axis=0, quantize_axis=2)
    # [1, T, kb, block] -> [1, T, d]
    return b.op("Reshape", [g, b.i64([0, 0, c.d_model])])


def _output_logits(b: Builder, w: _Weights, h: str) -> str:
    c, o = w.c, b.opts
    if o.quant == "fp32":
        # tied: logits = h @ E^T; Transpose+MatMul is fused by ORT into one FusedMatMul(transB) on the same table
        Et = b.op("Transpose", ["embedding_table"], perm=[1, 0])
        return b.op("MatMul", [h, Et], outputs=["logits"])
    if o.shared_embedding and hasattr(b, "shared_embedding"):
        table, s = b.shared_embedding  # type: ignore[attr-defined]
        out = b.matmul_nbits(h, table, s, c.d_model, c.vocab_size, "lm_head")
    else:
        q, s = quantize(w.f["embedding/embedding"], o.block_for(c.d_model), o.bits)
        out = b.matmul_nbits(h, q, s, c.d_model, c.vocab_size, "lm_head")
    b.nodes[-1].output[0] = "logits"
    return "logits"


def _heads(b: Builder, x: str, n_heads: int, hd: int) -> str:
    return b.op("Reshape", [x, b.i64([0, 0, n_heads, hd])])


def _flat(b: Builder, x: str, width: int) -> str:
    return b.op("Reshape", [x, b.i64([0, 0, width])])


def _matmul_attention(b: Builder, c: NeedleConfig, q: str, kT: str, v: str, bias: str | None) -> str:
    """q [1,n,H,hd] (normed, rotated, pre-scaled); kT [1,KV,1,hd,S]; v [1,KV,1,S,hd];
    bias broadcastable to [1,KV,G,n,S] -> [1, n, H*hd].

    Query heads are grouped by their kv head ([KV, G, n, hd]) so K/V are never repeated."""
    H, KV, G, hd = c.num_heads, c.num_kv_heads, c.group, c.head_dim
    qg = b.op("Reshape", [q, b.i64([-1, KV, G, hd])])             # [n, KV, G, hd]
    qg = b.op("Transpose", [qg], perm=[1, 2, 0, 3])               # [KV, G, n, hd]
    s = b.op("MatMul", [qg, kT])                                   # [1, KV, G, n, S]
    if bias is not None:
        s = b.op("Add", [s, bias])
    p = b.op("Softmax", [s], axis=-1)
    o = b.op("MatMul", [p, v])                                     # [1, KV, G, n, hd]
    o = b.op("Transpose", [o], perm=[0, 3, 1, 2, 4])               # [1, n, KV, G, hd]
    return b.op("Reshape", [o, b.i64([0, 0, H * hd])])


# ---------------------------------------------------------------------------------------------------------
# encoder
# ---------------------------------------------------------------------------------------------------------
def _mha_layer(b: Builder, w: "_Weights", c: NeedleConfig, opts: GraphOptions, i: int, h: str, pos: str,
               cos_n: str, sin_n: str) -> str:
    """One encoder layer's self-attention with com.microsoft.MultiHeadAttention and no mask (onnxruntime's flash
    kernel: tiled, no [heads, n, n] score matrix), in enc_gqa_groups groups of kv heads: q and k normed and
    rotated (RotaryEmbedding), each kv head repeated for its G query heads (kv head j serves query heads
    j*G .. j*G+G-1). h [1, n, d] -> [1, n, H*hd]."""
    H, KV, hd, G = c.num_heads, c.num_kv_heads, c.head_dim, c.group
    qd, kvd = H * hd, KV * hd
    pre = f"{ENC}/self_attn"
    ng = math.gcd(opts.enc_gqa_groups, KV)
    hq, hk = H // ng, KV // ng            # query and kv heads per group
    gq, gk = qd // ng, kvd // ng
    if opts.enc_qkv == "grouped":
        wq, wk, wv = (w.f[f"{pre}/{n}_proj/kernel"][i] for n in ("q", "k", "v"))
        groups = []
        for g in range(ng):
            wg = np.concatenate([wq[:, g * gq:(g + 1) * gq], wk[:, g * gk:(g + 1) * gk], wv[:, g * gk:(g + 1) * gk]],
                                axis=1)
            groups.append(b.op("Split", [b.linear(h, wg, f"enc{i}_qkv{g}"), b.i64([gq, gk, gk], f"split_qkv{ng}")],
                               n_out=3, axis=-1))
    else:
        q, k, v = b.op("Split", [b.linear(h, w.qkv(pre, i), f"enc{i}_qkv"), b.i64([qd, kvd, kvd], "split_qkv")],
                       n_out=3, axis=-1)
        if ng == 1:
            groups = [(q, k, v)]
        else:
            qs = b.op("Split", [q, b.i64([gq] * ng, f"split_q{ng}")], n_out=ng, axis=-1)
            ks = b.op("Split", [k, b.i64([gk] * ng, f"split_kv{ng}")], n_out=ng, axis=-1)
            vs = b.op("Split", [v, b.i64([gk] * ng, f"split_kv{ng}")], n_out=ng, axis=-1)
            groups = list(zip(qs, ks, vs))

    def repeat(x: str) -> str:   # [1, n, hk*hd] -> [1, n, hk*G*hd]: each kv head G times in a row
        if G == 1:
            return x
        x = b.op("Reshape", [x, b.i64([0, 0, hk, 1, hd])])
        x = b.op("Expand", [x, b.i64([1, 1, 1, G, 1], f"expand_g{G}")])
        return b.op("Reshape", [x, b.i64([0, 0, hq * hd])])

    parts = []
    for q, k, v in groups:
        q = _flat(b, b.sln(_heads(b, q, hq, hd), w.q_norm(pre, i)), gq)
        k = _flat(b, b.sln(_heads(b, k, hk, hd), w.k_norm(pre, i)), gk)
        q = b.op("RotaryEmbedding", [q, pos, cos_n, sin_n], domain=MS, num_heads=hq, interleaved=0)
        k = b.op("RotaryEmbedding", [k, pos, cos_n, sin_n], domain=MS, num_heads=hk, interleaved=0)
        parts.append(b.op("MultiHeadAttention", [q, repeat(k), repeat(v)], domain=MS, num_heads=hq,
                          scale=1.0 if w.exact else w.scale))
    return parts[0] if ng == 1 else b.op("Concat", parts, axis=-1)


def cross_kv_shapes(c: NeedleConfig, opts: GraphOptions) -> tuple[list, list]:
    """Shapes of cross_k_i and cross_v_i: K is [1, KV, hd, T] for the MatMul cross-attention (bnhs), else
    [1, KV, T, hd]; V is [1, KV, T, hd]."""
    KV, hd = c.num_kv_heads, c.head_dim
    return ([1, KV, hd, "T"] if opts.cross_k_layout == "bnhs" else [1, KV, "T", hd]), [1, KV, "T", hd]


def _cross_kv_layer(b: Builder, w: "_Weights", c: NeedleConfig, i: int, enc: str, k_out: str | None = None,
                    v_out: str | None = None) -> tuple[str, str]:
    """Decoder layer i's cross K (k-normed, in the cross_k layout) and V from the encoder's final hidden states
    `enc` [1, T, d]: one [d, 2*kvd] matmul."""
    KV, hd = c.num_kv_heads, c.head_dim
    pre = f"{DEC}/cross_attn"
    wkv = np.concatenate([w.f[f"{pre}/k_proj/kernel"][i], w.f[f"{pre}/v_proj/kernel"][i]], axis=1)
    kv = b.op("Reshape", [b.linear(enc, wkv, f"cross{i}_kv"), b.i64([-1, 2, KV, hd])])       # [T, 2, KV, hd]
    k, v = b.op("Split", [kv, b.i64([1, 1], "split_11")], n_out=2, axis=1)                   # [T, 1, KV, hd]
    k = b.sln(k, w.k_norm(pre, i))
    k = b.op("Transpose", [k], perm=[1, 2, 3, 0] if b.opts.cross_k_layout == "bnhs" else [1, 2, 0, 3],
             outputs=[k_out] if k_out else None)                               # [1, KV, hd, T] | [1, KV, T, hd]
    v = b.op("Transpose", [v], perm=[1, 2, 0, 3], outputs=[v_out] if v_out else None)        # [1, KV, T, hd]
    return k, v


def build_cross(flat: dict[str, np.ndarray], c: NeedleConfig, opts: GraphOptions) -> onnx.ModelProto:
    """cross.onnx (with cross_kv "graph"): encoder_hidden [1, T, d] + layer [1] (int64, 0..decoder_layers-1) ->
    that decoder layer's cross_k [1, KV, hd, T] (or [1, KV, T, hd]) and cross_v [1, KV, T, hd].

    onnxruntime runs every node of a graph whatever outputs a run asks for, so the layer is chosen by a balanced
    tree of If nodes on `layer` (log2(layers) deep), each leaf one layer's projection with its own weights."""
    opts = effective_options(c, opts)
    b = Builder(opts)
    w = _Weights(flat, c)
    D = c.decoder_layers
    enc = b.add_input("encoder_hidden", TensorProto.FLOAT, [1, "T", c.d_model])
    layer = b.add_input("layer", TensorProto.INT64, [1])
    k_shape, v_shape = cross_kv_shapes(c, opts)

    def branch(sb: Builder, lo: int, hi: int) -> tuple[str, str]:
        if hi - lo == 1:
            return _cross_kv_layer(sb, w, c, lo, enc)
        mid = (lo + hi) // 2
        cond = sb.op("Less", [layer, sb.i64([mid])])
        subs = []
        for part, (a, z) in (("then", (lo, mid)), ("else", (mid, hi))):
            child = Builder(opts, prefix=f"L{a}_{z}_")
            k, v = branch(child, a, z)
            subs.append(child.subgraph(f"layers_{a}_{z}", [(k, TensorProto.FLOAT, k_shape), (v, TensorProto.FLOAT, v_shape)]))
        return sb.op("If", [cond], n_out=2, then_branch=subs[0], else_branch=subs[1])

    if D == 1:
        k, v = _cross_kv_layer(b, w, c, 0, enc)
    else:
        k, v = branch(b, 0, D)
    b.op("Identity", [k], outputs=["cross_k"])
    b.op("Identity", [v], outputs=["cross_v"])
    b.add_output("cross_k", TensorProto.FLOAT, k_shape)
    b.add_output("cross_v", TensorProto.FLOAT, v_shape)
    return b.model("needle_cross")


def effective_options(c: NeedleConfig, opts: GraphOptions) -> GraphOptions:
    """onnxruntime's GroupQueryAttention wants head_dim % 16 == 0 (rotary); other shapes use MatMul attention
    where GroupQueryAttention was asked for."""
    if c.head_dim % 16 == 0:
        return opts
    return dataclasses.replace(opts, enc_attention="matmul",
                               dec_attention="matmul" if opts.dec_attention == "gqa" else opts.dec_attention)


def build_encoder(flat: dict[str, np.ndarray], c: NeedleConfig, opts: GraphOptions) -> onnx.ModelProto:
    opts = effective_options(c, opts)
    b = Builder(opts)
    w = _Weights(flat, c)
    H, KV, hd, d = c.num_heads, c.num_kv_heads, c.head_dim, c.d_model
    qd, kvd = H * hd, KV * hd
    ids = b.add_input("input_ids", TensorProto.INT64, [1, "T"])
    mask = b.add_input("attention_mask", TensorProto.INT64, [1, "T"])

    maskf = b.op("Cast", [mask], to=TensorProto.FLOAT)                            # [1, T]
    T = b.op("Gather", [b.op("Shape", [ids]), b.i64([1])], axis=0)                # [1]
    cos, sin = rope_cache(c.max_encoder_len, hd, c.rope_theta)
    cos_n, sin_n = b.const(cos, "rope_cos"), b.const(sin, "rope_sin")

    pool_mask = maskf
    if opts.enc_attention == "mha":
        # MultiHeadAttention takes onnxruntime's flash path (tiled, no [heads, T, T] scores) only without a mask,
        # so the layers run on the real tokens: a right-padded input (attention_mask = 1..1 0..0) is cut to
        # sum(mask) tokens here and the hidden states are padded back with zeros at the end
        n_real = b.op("ReduceSum", [mask, b.i64([1], "axes1")], keepdims=0)             # [1]
        ids = b.op("Slice", [ids, b.i64([0], "i64_0"), n_real, b.i64([1], "axes1")])    # [1, n]
        pool_mask = b.op("Slice", [maskf, b.i64([0], "i64_0"), n_real, b.i64([1], "axes1")])
        rng = b.op("Range", [b.const(np.array(0, np.int64), "zero"), b.op("Squeeze", [n_real]),
                             b.const(np.array(1, np.int64), "one_scalar")])
        pos = b.op("Unsqueeze", [rng, b.i64([0], "axes0")])                           # [1, n]
    elif opts.enc_attention == "gqa":
        # right-padded batch of one: keys past seqlens_k are ignored (attention_mask = 1..1 0..0)
        n_real = b.op("ReduceSum", [mask], keepdims=0)                            # [1]
        seqlens_k = b.op("Cast", [b.op("Sub", [n_real, b.i64([1], "one")])], to=TensorProto.INT32)
        total = b.op("Cast", [b.op("Squeeze", [T])], to=TensorProto.INT32)
    else:
        rng = b.op("Range", [b.const(np.array(0, np.int64), "zero"), b.op("Squeeze", [T]),
                             b.const(np.array(1, np.int64), "one_scalar")])
        pos = b.op("Unsqueeze", [rng, b.i64([0], "axes0")])                           # [1, T]
        bias = b.op("Mul", [b.op("Sub", [maskf, b.scalar_f(1.0, "f_one")]), b.scalar_f(-NEG, "f_big")])
        bias = b.op("Reshape", [bias, b.i64([1, 1, 1, 1, -1])])                  # [1,1,1,1,T]: 0 or -1e9

    x = _embed(b, w, ids)
    resid = x
    attn_out: str | None = None
    for i in range(c.encoder_layers):
        pre = f"{ENC}/self_attn"
        nw = w.norm(f"{ENC}/ZCRMSNorm_0/scale", i)
        if attn_out is None:
            h = b.sln(resid, nw)
        else:
            h, resid = b.skip_sln(resid, attn_out, nw)
        if opts.enc_attention == "mha":
            attn_out = b.linear(_mha_layer(b, w, c, opts, i, h, pos, cos_n, sin_n),
                                w.out(pre, i, w.f[f"{ENC}/attn_gate"]), f"enc{i}_out")
            continue
        if opts.enc_attention == "gqa" and opts.enc_qkv == "grouped":
            # one q|k|v matmul per GQA op: only that group's projections are ever in flight
            ng = math.gcd(opts.enc_gqa_groups, KV)
            wq, wk, wv = (w.f[f"{pre}/{n}_proj/kernel"][i] for n in ("q", "k", "v"))
            gq, gk = qd // ng, kvd // ng
            parts = []
            for g in range(ng):
                wg = np.concatenate([wq[:, g * gq:(g + 1) * gq], wk[:, g * gk:(g + 1) * gk], wv[:, g * gk:(g + 1) * gk]],
                                    axis=1)
                qkv = b.linear(h, wg, f"enc{i}_qkv{g}")
                q, k, v = b.op("Split", [qkv, b.i64([gq, gk, gk], f"split_qkv{ng}")], n_out=3, axis=-1)
                q = _flat(b, b.sln(_heads(b, q, H // ng, hd), w.q_norm(pre, i)), gq)
                k = _flat(b, b.sln(_heads(b, k, KV // ng, hd), w.k_norm(pre, i)), gk)
                parts.append(b.op("GroupQueryAttention", [q, k, v, "", "", seqlens_k, total, cos_n, sin_n],
                                  domain=MS, num_heads=H // ng, kv_num_heads=KV // ng, do_rotary=1, causal=0,
                                  scale=1.0 if w.exact else w.scale))
            attn_out = b.linear(parts[0] if ng == 1 else b.op("Concat", parts, axis=-1),
                                w.out(pre, i, w.f[f"{ENC}/attn_gate"]), f"enc{i}_out")
            continue
        qkv = b.linear(h, w.qkv(pre, i), f"enc{i}_qkv")
        q, k, v = b.op("Split", [qkv, b.i64([qd, kvd, kvd], "split_qkv")], n_out=3, axis=-1)
        q = b.sln(_heads(b, q, H, hd), w.q_norm(pre, i))
        k = b.sln(_heads(b, k, KV, hd), w.k_norm(pre, i))
        if opts.enc_attention == "gqa":
            ng = math.gcd(opts.enc_gqa_groups, KV)  # groups must split the kv heads evenly
            qs, ks, vs = [_flat(b, q, qd)], [_flat(b, k, kvd)], [v]
            if ng > 1:  # kv heads [j0, j1) serve query heads [j0*G, j1*G): equal chunks line up
                qs = b.op("Split", [qs[0], b.i64([qd // ng] * ng, f"split_q{ng}")], n_out=ng, axis=-1)
                ks = b.op("Split", [ks[0], b.i64([kvd // ng] * ng, f"split_kv{ng}")], n_out=ng, axis=-1)
                vs = b.op("Split", [v, b.i64([kvd // ng] * ng, f"split_kv{ng}")], n_out=ng, axis=-1)
            parts = [b.op("GroupQueryAttention", [qs[g], ks[g], vs[g], "", "", seqlens_k, total, cos_n, sin_n],
                          domain=MS, num_heads=H // ng, kv_num_heads=KV // ng, do_rotary=1, causal=0,
                          scale=1.0 if w.exact else w.scale) for g in range(ng)]
            att = parts[0] if ng == 1 else b.op("Concat", parts, axis=-1)
        else:
            q = _heads(b, b.op("RotaryEmbedding", [_flat(b, w.scale_q(b, q), qd), pos, cos_n, sin_n], domain=MS,
                               num_heads=H, interleaved=0), H, hd)
            k = b.op("RotaryEmbedding", [_flat(b, k, kvd), pos, cos_n, sin_n], domain=MS, num_heads=KV,
                     interleaved=0)
            kT = b.op("Transpose", [b.op("Reshape", [k, b.i64([-1, KV, hd])])], perm=[1, 2, 0])   # [KV, hd, T]
            vv = b.op("Transpose", [b.op("Reshape", [v, b.i64([-1, KV, hd])])], perm=[1, 0, 2])   # [KV, T, hd]
            kT = b.op("Unsqueeze", [kT, b.i64([0, 2], "axes02")])
            vv = b.op("Unsqueeze", [vv, b.i64([0, 2], "axes02")])
            att = _matmul_attention(b, c, q, kT, vv, bias)
        attn_out = b.linear(att, w.out(pre, i, w.f[f"{ENC}/attn_gate"]), f"enc{i}_out")
    enc, _ = b.skip_sln(resid, attn_out, w.norm("encoder/final_norm/scale"))  # type: ignore[arg-type]
    pool_src = enc
    if opts.enc_attention == "mha":
        # back to the input's T rows: zeros after the real ones (the decoder's cross-attention masks them)
        pads = b.op("Concat", [b.i64([0, 0, 0, 0]), b.op("Sub", [T, n_real]), b.i64([0], "i64_0")], axis=0)
        enc = b.op("Pad", [enc, pads], mode="constant",
                   outputs=["encoder_hidden"] if opts.cross_kv == "graph" else None)   # [1, T, d]

    D = c.decoder_layers
    pre = f"{DEC}/cross_attn"
    bnhs = opts.cross_k_layout == "bnhs"   # K pre-transposed for the MatMul cross-attention
    if opts.cross_kv == "fused":
        # every decoder layer's cross K/V from one matmul: columns [k_0 .. k_{D-1}, v_0 .. v_{D-1}]
        wkv = np.concatenate([flat[f"{pre}/k_proj/kernel"][i] for i in range(D)] +
                             [flat[f"{pre}/v_proj/kernel"][i] for i in range(D)], axis=1)
        kv = b.linear(enc, wkv, "cross_kv")                                          # [1, T, 2*D*kvd]
        kv = b.op("Reshape", [kv, b.i64([-1, 2 * D, KV, hd])])                        # [T, 2D, KV, hd]
        kx, vx = b.op("Split", [kv, b.i64([D, D], "split_dd")], n_out=2, axis=1)      # [T, D, KV, hd] each
        kx = b.sln(kx, np.ones(hd, np.float32))
        kn = np.stack([w.k_norm(pre, i) for i in range(D)])[:, None, :]               # [D, 1, hd]
        kx = b.op("Mul", [kx, b.const(kn, "cross_k_norm")])
        kx = b.op("Transpose", [kx], perm=[1, 2, 3, 0] if bnhs else [1, 2, 0, 3])     # [D, KV, hd, T] | [D, KV, T, hd]
        vx = b.op("Transpose", [vx], perm=[1, 2, 0, 3])                               # [D, KV, T, hd]
        ks = b.op("Split", [kx, b.i64([1] * D, "split_ones")], n_out=D, axis=0) if D > 1 else [kx]
        vs = b.op("Split", [vx, b.i64([1] * D, "split_ones")], n_out=D, axis=0) if D > 1 else [vx]
        for i in range(D):
            b.op("Identity", [ks[i]], outputs=[f"cross_k_{i}"])
            b.op("Identity", [vs[i]], outputs=[f"cross_v_{i}"])
    elif opts.cross_kv == "per_layer":
        # one [d, 2*kvd] matmul per decoder layer: only that layer's K/V are ever in flight besides the outputs
        for i in range(D):
            _cross_kv_layer(b, w, c, i, enc, f"cross_k_{i}", f"cross_v_{i}")
    if opts.cross_kv == "graph":
        # the K/V come from cross.onnx, a layer per run: no run holds every layer's K/V (16 KB per token for the
        # 26M shape) at once, in onnxruntime's outputs and again in the JS copies onnxruntime-node makes of them
        if enc != "encoder_hidden":
            b.op("Identity", [enc], outputs=["encoder_hidden"])
        b.add_output("encoder_hidden", TensorProto.FLOAT, [1, "T", d])
    else:
        for i in range(D):
            k_shape, v_shape = cross_kv_shapes(c, opts)
            b.add_output(f"cross_k_{i}", TensorProto.FLOAT, k_shape)
            b.add_output(f"cross_v_{i}", TensorProto.FLOAT, v_shape)

    # retrieval head: masked mean -> relu(dense + bias) -> dense -> L2 norm
    m3 = b.op("Unsqueeze", [pool_mask, b.i64([2], "axes2")])                          # [1, T, 1]
    summed = b.op("ReduceSum", [b.op("Mul", [pool_src, m3]), b.i64([1], "axes1")], keepdims=0)   # [1, d]
    count = b.op("Max", [b.op("ReduceSum", [pool_mask, b.i64([1], "axes1")], keepdims=1), b.scalar_f(1.0, "f_one")])
    pooled = b.op("Div", [summed, count])
    hid = b.op("Relu", [b.op("Add", [b.op("MatMul", [pooled, b.const(flat["contrastive_hidden/kernel"], "ret_hidden")]),
                                     b.const(flat["contrastive_hidden/bias"], "ret_bias")])])
    e = b.op("MatMul", [hid, b.const(flat["contrastive_proj/kernel"], "ret_proj")])
    nrm = b.op("Max", [b.op("ReduceL2", [e], axes=[1], keepdims=1), b.scalar_f(1e-12, "f_tiny")])
    b.op("Div", [e, nrm], outputs=["embedding"])
    b.add_output("embedding", TensorProto.FLOAT, [1, c.retrieval_dim])
    return b.model("needle_encoder")


# ---------------------------------------------------------------------------------------------------------
# decoder
# ---------------------------------------------------------------------------------------------------------
def _step_attention(b: Builder, c: NeedleConfig, q: str, kT: str, v: str, bias: str | None) -> str:
    """Attention of the decoder's n new tokens, no transpose of q or K/V:
    q [n, KV, G, hd] (normed, rotated, pre-scaled) is viewed as [n, KV, G, 1, hd] and multiplied with
    kT [1, KV, hd, S] viewed as [1, KV, 1, hd, S]: MatMul broadcasts the batch dims, so each query head does
    one 1 x hd x S product against its kv head (measured faster here than grouping G*n rows per kv head,
    which makes MLAS pack K every step). bias broadcastable to [n, KV, G, 1, S]; v [1, KV, S, hd]."""
    KV, G, hd = c.num_kv_heads, c.group, c.head_dim
    q5 = b.op("Reshape", [q, b.i64([-1, KV, G, 1, hd])])
    s = b.op("MatMul", [q5, b.op("Unsqueeze", [kT, b.i64([2], "axes2")])])          # [n, KV, G, 1, S]
    if bias is not None:
        s = b.op("Add", [s, bias])
    p = b.op("Softmax", [s], axis=-1)
    o = b.op("MatMul", [p, b.op("Unsqueeze", [v, b.i64([2], "axes2")])])            # [n, KV, G, 1, hd]
    return b.op("Reshape", [o, b.i64([1, -1, c.num_heads * c.head_dim])])


def _attention23(b: Builder, q: str, k: str, v: str, mask: str | None, scale: float, **heads) -> str:
    """ONNX Attention (opset 23): q/k/v all 3-D [1, S, heads*hd] (then q_num_heads/kv_num_heads are given) or all
    4-D [1, heads, S, hd]; mask additive, broadcastable to [1, H, n, S]."""
    return b.op("Attention", [q, k, v] + ([mask] if mask else []), scale=scale, **heads)


def build_decoder(flat: dict[str, np.ndarray], c: NeedleConfig, opts: GraphOptions) -> onnx.ModelProto:
    opts = effective_options(c, opts)
    b = Builder(opts)
    w = _Weights(flat, c)
    H, KV, hd, G = c.num_heads, c.num_kv_heads, c.head_dim, c.group
    qd, kvd = H * hd, KV * hd
    D = c.decoder_layers
    rows = opts.dec_cache == "rows"
    ids = b.add_input("input_ids", TensorProto.INT64, [1, "n"])
    pos = b.add_input("position_ids", TensorProto.INT64, [1, "n"])
    emask = b.add_input("encoder_attention_mask", TensorProto.INT64, [1, "T"])
    for i in range(D):
        for kv in ("k", "v"):
            b.add_input(f"past_self_{kv}_{i}", TensorProto.FLOAT, [1, "P", kvd] if rows else [1, KV, "P", hd])
    for i in range(D):
        b.add_input(f"cross_k_{i}", TensorProto.FLOAT, [1, KV, hd, "T"] if opts.cross_k_layout == "bnhs"
                    else [1, KV, "T", hd])
        b.add_input(f"cross_v_{i}", TensorProto.FLOAT, [1, KV, "T", hd])

    cos, sin = rope_cache(c.max_decoder_len, hd, c.rope_theta)
    cos_n, sin_n = b.const(cos, "rope_cos"), b.const(sin, "rope_sin")
    emf = b.op("Cast", [emask], to=TensorProto.FLOAT)
    cbias = b.op("Mul", [b.op("Sub", [emf, b.scalar_f(1.0, "f_one")]), b.scalar_f(-NEG, "f_big")])  # [1, T]

    n = b.op("Gather", [b.op("Shape", [ids]), b.i64([1])], axis=0)                    # [1]
    P = b.op("Gather", [b.op("Shape", ["past_self_k_0"]), b.i64([1 if rows else 2])], axis=0)   # [1]
    if opts.cross_attention == "attention":
        # onnxruntime's Attention wants the mask's query axis spelled out: [n, T]
        cbias = b.op("Expand", [cbias, b.op("Concat", [n, b.op("Shape", [emask], start=1)], axis=0)])
    if opts.dec_attention == "gqa":
        # GQA derives positions from the cache length: past_len + i, which is what position_ids holds
        total = b.op("Add", [P, n])
        seqlens_k = b.op("Cast", [b.op("Sub", [total, b.i64([1], "one")])], to=TensorProto.INT32)
        total32 = b.op("Cast", [b.op("Squeeze", [total])], to=TensorProto.INT32)
    else:
        # causal bias: key position > query position -> -1e9; [n, P+n] for Attention, [n, 1, 1, 1, P+n] for MatMul
        kpos = b.op("Range", [b.const(np.array(0, np.int64), "zero"), b.op("Squeeze", [b.op("Add", [P, n])]),
                              b.const(np.array(1, np.int64), "one_scalar")])         # [P+n]
        shape = [-1, 1] if opts.dec_attention == "attention" else [-1, 1, 1, 1, 1]
        qpos = b.op("Reshape", [pos, b.i64(shape)])
        sbias = b.op("Where", [b.op("Greater", [kpos, qpos]), b.scalar_f(NEG, "f_neg"), b.scalar_f(0.0, "f_zero")])

    y = _embed(b, w, ids)
    resid = y
    prev: str | None = None
    new_rows: list[str] = []
    for i in range(D):
        # --- self-attention
        pre = f"{DEC}/self_attn"
        nw = w.norm(f"{DEC}/ZCRMSNorm_0/scale", i)
        if prev is None:
            h = b.sln(resid, nw)
        else:
            h, resid = b.skip_sln(resid, prev, nw)
        qkv = b.linear(h, w.qkv(pre, i), f"dec{i}_self_qkv")
        q, k, v = b.op("Split", [qkv, b.i64([qd, kvd, kvd], "split_qkv")], n_out=3, axis=-1)
        q = b.sln(_heads(b, q, H, hd), w.q_norm(pre, i))
        k = b.sln(_heads(b, k, KV, hd), w.k_norm(pre, i))
        if opts.dec_attention == "gqa":
            att = b.op("GroupQueryAttention", [_flat(b, q, qd), _flat(b, k, kvd), v, f"past_self_k_{i}",
                                               f"past_self_v_{i}", seqlens_k, total32, cos_n, sin_n],
                       n_out=3, domain=MS, num_heads=H, kv_num_heads=KV, do_rotary=1,
                       scale=1.0 if w.exact else w.scale,
                       outputs=[b.fresh("gqa"), f"present_self_k_{i}", f"present_self_v_{i}"])[0]
        elif rows:
            # the cache grows by rows [1, P, KV*hd]: the runtime appends this step's rows to its own buffers
            k = b.op("RotaryEmbedding", [_flat(b, k, kvd), pos, cos_n, sin_n], domain=MS, num_heads=KV,
                     interleaved=0)                                                   # [1, n, kvd]
            new_rows += [k, v]
            kall = b.op("Concat", [f"past_self_k_{i}", k], axis=1)                    # [1, P+n, kvd]
            vall = b.op("Concat", [f"past_self_v_{i}", v], axis=1)
            if opts.dec_attention == "attention":
                q = b.op("RotaryEmbedding", [_flat(b, q, qd), pos, cos_n, sin_n], domain=MS, num_heads=H,
                         interleaved=0)
                att = _attention23(b, q, kall, vall, sbias, 1.0 if w.exact else w.scale,
                                   q_num_heads=H, kv_num_heads=KV)
            else:
                q = b.op("RotaryEmbedding", [_flat(b, w.scale_q(b, q), qd), pos, cos_n, sin_n], domain=MS,
                         num_heads=H, interleaved=0)
                q = b.op("Reshape", [q, b.i64([-1, KV, G, hd])])                      # [n, KV, G, hd]
                kT = b.op("Transpose", [_heads(b, kall, KV, hd)], perm=[0, 2, 3, 1])  # [1, KV, hd, P+n]
                vv = b.op("Transpose", [_heads(b, vall, KV, hd)], perm=[0, 2, 1, 3])  # [1, KV, P+n, hd]
                att = _step_attention(b, c, q, kT, vv, sbias)
        else:
            q = b.op("RotaryEmbedding", [_flat(b, w.scale_q(b, q), qd), pos, cos_n, sin_n], domain=MS,
                     num_heads=H, interleaved=0)
            q = b.op("Reshape", [q, b.i64([-1, KV, G, hd])])                          # [n, KV, G, hd]
            k = b.op("RotaryEmbedding", [_flat(b, k, kvd), pos, cos_n, sin_n], domain=MS, num_heads=KV,
                     interleaved=0)
            k = b.op("Transpose", [_heads(b, k, KV, hd)], perm=[0, 2, 1, 3])          # [1, KV, n, hd]
            vv = b.op("Transpose", [_heads(b, v, KV, hd)], perm=[0, 2, 1, 3])
            pk = b.op("Concat", [f"past_self_k_{i}", k], axis=2, outputs=[f"present_self_k_{i}"])
            pv = b.op("Concat", [f"past_self_v_{i}", vv], axis=2, outputs=[f"present_self_v_{i}"])
            kT = b.op("Transpose", [pk], perm=[0, 1, 3, 2])                           # fused into MatMul by ORT
            att = _step_attention(b, c, q, kT, pv, sbias)
        if not rows:
            b.add_output(f"present_self_k_{i}", TensorProto.FLOAT, [1, KV, "P_plus_n", hd])
            b.add_output(f"present_self_v_{i}", TensorProto.FLOAT, [1, KV, "P_plus_n", hd])
        o = b.linear(att, w.out(pre, i, w.f[f"{DEC}/self_attn_gate"]), f"dec{i}_self_out")

        # --- cross-attention (K/V from the encoder)
        pre = f"{DEC}/cross_attn"
        h, resid = b.skip_sln(resid, o, w.norm(f"{DEC}/ZCRMSNorm_1/scale", i))
        q = b.linear(h, flat[f"{pre}/q_proj/kernel"][i], f"dec{i}_cross_q")
        if opts.cross_attention == "attention":
            q = b.sln(_heads(b, q, H, hd), w.q_norm(pre, i))                          # [1, n, H, hd]
            q = b.op("Transpose", [q], perm=[0, 2, 1, 3])                             # [1, H, n, hd]
            att = _attention23(b, q, f"cross_k_{i}", f"cross_v_{i}", cbias, 1.0 if w.exact else w.scale)
            att = b.op("Reshape", [b.op("Transpose", [att], perm=[0, 2, 1, 3]), b.i64([1, -1, qd])])
        else:
            q = w.scale_q(b, b.sln(b.op("Reshape", [q, b.i64([-1, KV, G, hd])]), w.q_norm(pre, i)))  # [n, KV, G, hd]
            att = _step_attention(b, c, q, f"cross_k_{i}", f"cross_v_{i}", cbias)
        prev = b.linear(att, w.out(pre, i, w.f[f"{DEC}/cross_attn_gate"]), f"dec{i}_cross_out")

    hf, _ = b.skip_sln(resid, prev, w.norm("decoder/ZCRMSNorm_0/scale"))  # type: ignore[arg-type]
    _output_logits(b, w, hf)
    b.add_output("logits", TensorProto.FLOAT, [1, "n", c.vocab_size])
    if opts.top_k:
        # I/O 3: what greedy decoding needs instead of the whole row (onnxruntime-node copies every output it
        # hands back into a new JS buffer: 4 * vocab_size bytes per token). `logits` stays an output for the rare
        # step where none of the K is allowed; a run that does not ask for it does not copy it out.
        k = min(opts.top_k, c.vocab_size)
        vals, idx = b.op("TopK", ["logits", b.i64([k], "top_k")], n_out=2, axis=-1, largest=1, sorted=1,
                         outputs=["top_logits", b.fresh("top_idx")])
        b.op("Cast", [idx], to=TensorProto.INT32, outputs=["top_ids"])
        # log-sum-exp = the top logit minus its log-softmax: onnxruntime's LogSoftmax is vectorised (MLAS) and
        # costs ~1 us for 8192 logits where ReduceLogSumExp took ~26 us (scalar exp); at the row's maximum
        # LogSoftmax computes 0 - log(sum(exp(x - max))), so this is max + log(sum) as ReduceLogSumExp's is.
        # Any NaN or +Inf logit makes it NaN, which tells the runtime to use the whole row instead.
        first = [b.i64([0], "i64_0"), b.i64([1], "i64_1"), b.i64([-1], "axes_last")]
        top0 = b.op("Slice", [vals, *first])                                            # [1, n, 1]
        at0 = b.op("GatherElements", [b.op("LogSoftmax", ["logits"], axis=-1), b.op("Slice", [idx, *first])], axis=-1)
        b.op("Reshape", [b.op("Sub", [top0, at0]), b.i64([1, -1])], outputs=["logsumexp"])
        b.add_output("top_logits", TensorProto.FLOAT, [1, "n", k])
        b.add_output("top_ids", TensorProto.INT32, [1, "n", k])
        b.add_output("logsumexp", TensorProto.FLOAT, [1, "n"])
    if rows:
        # every layer's new (normed, rotated) k and v rows side by side: [1, n, D * 2 * kvd], order k_0 v_0 k_1 ..
        b.op("Concat", new_rows, axis=-1, outputs=["new_self_kv"])
        b.add_output("new_self_kv", TensorProto.FLOAT, [1, "n", D * 2 * kvd])
    return b.model("needle_decoder")


# ---------------------------------------------------------------------------------------------------------
# one shared weights file
# ---------------------------------------------------------------------------------------------------------
def all_initializers(g: onnx.GraphProto):
    """The graph's initializers and those of its subgraphs (If branches), depth first."""
    yield from g.initializer
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from all_initializers(a.g)


def externalize(models: list[onnx.ModelProto], data_path: str, location: str, min_bytes: int = 1024) -> int:
    """Move every initializer of at least `min_bytes` into one file next to the graphs, storing identical
    tensors once (the int8 embedding table is read by both the encoder and the decoder). Large tensors start
    on a 4 KiB boundary so onnxruntime can map them. Returns the file size."""
    import hashlib

    index: dict[bytes, tuple[int, int]] = {}
    with open(data_path, "wb") as f:
        pos = 0
        for m in models:
            for t in all_initializers(m.graph):
                raw = t.raw_data
                if len(raw) < min_bytes:
                    continue
                key = hashlib.sha256(bytes([t.data_type]) + str(list(t.dims)).encode() + raw).digest()
                if key not in index:
                    align = 4096 if len(raw) >= 65536 else 64
                    pad = -pos % align
                    f.write(b"\0" * pad)
                    pos += pad
                    f.write(raw)
                    index[key] = (pos, len(raw))
                    pos += len(raw)
                off, length = index[key]
                t.ClearField("raw_data")
                t.data_location = TensorProto.EXTERNAL
                del t.external_data[:]
                for k, v in (("location", location), ("offset", str(off)), ("length", str(length))):
                    e = t.external_data.add()
                    e.key, e.value = k, v
    return pos
