"""Tokenised training data: JSONL samples -> cached arrays -> length-bucketed batches."""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import pickle
import random
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from needle_prompt import EOS, ROLE_WEIGHTS, TOOLS, encode_answer, encode_prompt, encode_retrieval, tool_text


@dataclass
class Dataset:
    enc: list[np.ndarray]        # encoder ids (int16)
    dec_in: list[np.ndarray]     # decoder input ids
    tgt: list[np.ndarray]        # targets
    roles: list[np.ndarray]      # role per target token (int8)
    rq: list[np.ndarray | None]  # retrieval: query ids alone (None for negatives)
    rt: list[int]                # retrieval: index into tool_texts (-1 for none)
    tool_ids: list[np.ndarray]   # token ids of each distinct tool text
    tool_texts: list[str]

    def __len__(self) -> int:
        return len(self.enc)


def _file_key(path: str, tok: str) -> str:
    h = hashlib.sha1()
    for p in (path, tok):
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def tokenize_file(path: str, sp, tok_path: str, cache_dir: str | None = None, limit: int | None = None,
                  log=sys.stderr) -> Dataset:
    key = _file_key(path, tok_path) + (f"-{limit}" if limit else "")
    cache = os.path.join(cache_dir, f"{os.path.basename(path)}.{key}.pkl") if cache_dir else None
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    t0 = time.time()
    ds = Dataset([], [], [], [], [], [], [], [])
    tool_index: dict[str, int] = {}
    with open(path) as f:
        for i, line in enumerate(f):
            if limit and i >= limit:
                break
            s = json.loads(line)
            ds.enc.append(np.asarray(encode_prompt(sp, s["query"], s["tools"]), dtype=np.int16))
            di, tg, ro = encode_answer(sp, s["answer"])
            ds.dec_in.append(np.asarray(di, dtype=np.int16))
            ds.tgt.append(np.asarray(tg, dtype=np.int16))
            ds.roles.append(np.asarray(ro, dtype=np.int8))
            if s.get("retrieval"):
                tt = tool_text(s["retrieval"])
                j = tool_index.get(tt)
                if j is None:
                    j = tool_index[tt] = len(ds.tool_texts)
                    ds.tool_texts.append(tt)
                    ds.tool_ids.append(np.asarray(encode_retrieval(sp, tt), dtype=np.int16))
                ds.rq.append(np.asarray(encode_retrieval(sp, s["query"]), dtype=np.int16))
                ds.rt.append(j)
            else:
                ds.rq.append(None)
                ds.rt.append(-1)
            if (i + 1) % 50000 == 0:
                print(f"tokenized {i + 1} samples ({time.time() - t0:.0f}s)", file=log, flush=True)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = cache + f".tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    return ds


def make_batches(ds: Dataset, seed: int, epoch: int, max_tokens: int, max_batch: int) -> list[list[int]]:
    """Shuffle, sort within large chunks by encoder length, cut into batches of at most max_tokens padded
    encoder tokens, shuffle the batches."""
    rng = random.Random(seed * 1000 + epoch)
    idx = list(range(len(ds)))
    rng.shuffle(idx)
    chunk = max_batch * 64
    batches = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c:c + chunk], key=lambda i: len(ds.enc[i]))
        cur: list[int] = []
        longest = 0
        for i in part:
            n = len(ds.enc[i])
            if cur and (max(longest, n) * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
                batches.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, n)
        if cur:
            batches.append(cur)
    rng.shuffle(batches)
    return batches


def _pad(seqs: list[np.ndarray], value: int = 0) -> torch.Tensor:
    n = max(len(s) for s in seqs)
    out = np.full((len(seqs), n), value, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return torch.from_numpy(out)


def collate(ds: Dataset, batch: list[int], max_pairs: int = 32) -> dict:
    enc = _pad([ds.enc[i] for i in batch])
    dec_in = _pad([ds.dec_in[i] for i in batch])
    tgt = _pad([ds.tgt[i] for i in batch], -100)
    roles = _pad([ds.roles[i] for i in batch])
    w = torch.tensor(ROLE_WEIGHTS, dtype=torch.float32)[roles] * (tgt != -100)
    out = {"enc": enc, "enc_mask": enc != 0, "dec_in": dec_in, "tgt": tgt, "w": w}
    pairs = [i for i in batch if ds.rt[i] >= 0][:max_pairs]
    if len(pairs) >= 2:
        tools = sorted({ds.rt[i] for i in pairs})
        col = {t: k for k, t in enumerate(tools)}
        out["rq"] = _pad([ds.rq[i] for i in pairs])
        out["rt"] = _pad([ds.tool_ids[t] for t in tools])
        out["r_label"] = torch.tensor([col[ds.rt[i]] for i in pairs])
    return out


# Packed form: every field as one flat array plus lengths, xz-compressed. The token streams repeat the same
# tool declarations, so they compress ~18x; this is how tokenised data travels to a training machine.
# Not stored, because they are derived: the targets (the decoder input shifted by one, ending in EOS), the
# retrieval query (the prompt's query part, before the <tools> token) and the retrieval tools' ids (their texts
# are re-encoded on load).
_SEQ_FIELDS = ("enc", "dec_in", "roles")


def _flatten(seqs: list[np.ndarray], dtype) -> tuple[np.ndarray, np.ndarray]:
    lens = np.fromiter((len(s) for s in seqs), dtype=np.int32, count=len(seqs))
    flat = np.concatenate(seqs).astype(dtype) if seqs else np.zeros(0, dtype)
    return flat, lens


def _split(flat: np.ndarray, lens: np.ndarray) -> list[np.ndarray]:
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(lens))]


def save_packed(ds: Dataset, path: str) -> None:
    for di, tg in zip(ds.dec_in, ds.tgt):
        if len(di) != len(tg) or tg[-1] != EOS or not np.array_equal(di[1:], tg[:-1]):
            raise ValueError("targets are not the decoder input shifted by one")
    for e, q in zip(ds.enc, ds.rq):
        if q is not None and not (len(q) < len(e) and e[len(q)] == TOOLS and np.array_equal(e[:len(q)], q)):
            raise ValueError("a retrieval query is not the prompt's query part")
    arrays: dict[str, np.ndarray] = {}
    for name in _SEQ_FIELDS:
        arrays[name], arrays[name + "_len"] = _flatten(getattr(ds, name), np.int8 if name == "roles" else np.int16)
    arrays["rq_present"] = np.array([q is not None for q in ds.rq], dtype=bool)
    arrays["rt"] = np.asarray(ds.rt, dtype=np.int32)
    arrays["tool_texts"] = np.frombuffer(json.dumps(ds.tool_texts).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    tmp = path + f".tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(lzma.compress(buf.getvalue(), preset=6))
    os.replace(tmp, path)


def load_packed(path: str, sp) -> Dataset:
    with open(path, "rb") as f:
        z = np.load(io.BytesIO(lzma.decompress(f.read())))
    seqs = {name: _split(z[name], z[name + "_len"]) for name in _SEQ_FIELDS}
    eos = np.array([EOS], dtype=np.int16)
    tgt = [np.concatenate([d[1:], eos]) for d in seqs["dec_in"]]
    rq = [e[:int(np.argmax(e == TOOLS))] if present else None for e, present in zip(seqs["enc"], z["rq_present"])]
    texts = json.loads(bytes(z["tool_texts"]).decode())
    tool_ids = [np.asarray(encode_retrieval(sp, t), dtype=np.int16) for t in texts]
    return Dataset(seqs["enc"], seqs["dec_in"], tgt, seqs["roles"], rq, [int(x) for x in z["rt"]], tool_ids, texts)


def concat_datasets(parts: list[Dataset]) -> Dataset:
    """Join datasets, renumbering each part's retrieval tools into one shared table."""
    out = Dataset([], [], [], [], [], [], [], [])
    index: dict[str, int] = {}
    for ds in parts:
        remap = []
        for text, ids in zip(ds.tool_texts, ds.tool_ids):
            j = index.get(text)
            if j is None:
                j = index[text] = len(out.tool_texts)
                out.tool_texts.append(text)
                out.tool_ids.append(ids)
            remap.append(j)
        out.enc += ds.enc
        out.dec_in += ds.dec_in
        out.tgt += ds.tgt
        out.roles += ds.roles
        out.rq += ds.rq
        out.rt += [remap[t] if t >= 0 else -1 for t in ds.rt]
    return out
