"""Greedy decoding with the torch model, constrained on tool names and argument keys (the reference
constraint): inside the "name" string only declared tool names can be written, inside an argument key
only that tool's declared parameters. Everything else is the model's choice; after the closing `]`, eos.
"""
from __future__ import annotations

import json
import re
import torch

from needle_prompt import EOS, TOOL_CALL, prompt_tools


def _params_of(tool: dict) -> list[str]:
    p = tool.get("parameters") or {}
    if isinstance(p, dict) and isinstance(p.get("properties"), dict):
        return list(p["properties"])
    if isinstance(p, dict):
        return [k for k, v in p.items() if isinstance(v, dict)]
    return []


class Scanner:
    """Where a JSON prefix stands: inside a string that is a call's "name" value or an arguments key?"""

    @staticmethod
    def state(text: str):
        stack: list[str] = []
        in_str = esc = False
        cur = ""
        key_pos = False       # the string being read is an object key
        last_key = None
        expect_key = False
        call_name = None
        for ch in text:
            if in_str:
                if esc:
                    esc = False
                    cur += ch
                elif ch == "\\":
                    esc = True
                    cur += ch
                elif ch == '"':
                    in_str = False
                    if key_pos:
                        last_key = cur
                    elif len(stack) == 2 and last_key == "name":
                        call_name = cur
                    cur = ""
                else:
                    cur += ch
                continue
            if ch == '"':
                in_str = True
                key_pos = expect_key
                cur = ""
            elif ch in "{[":
                stack.append(ch)
                expect_key = ch == "{"
            elif ch in "}]":
                if stack:
                    stack.pop()
                expect_key = False
            elif ch == ",":
                expect_key = bool(stack) and stack[-1] == "{"
            elif ch == ":":
                expect_key = False
        if in_str and not key_pos and len(stack) == 2 and last_key == "name":
            return ("name", cur, None)
        if in_str and key_pos and len(stack) == 3:
            return ("key", cur, call_name)
        closed = text.strip().startswith("[") and not stack and text.strip() != ""
        return ("closed" if closed else "free", cur, call_name)


class ConstrainedDecoder:
    def __init__(self, model, sp, max_len: int = 160):
        self.m = model
        self.sp = sp
        self.max_len = max_len
        n = sp.get_piece_size()
        self.pieces = []
        for i in range(n):
            if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or i in (4, 5):
                self.pieces.append(None)
            else:
                self.pieces.append(sp.id_to_piece(i).replace("\u2581", " "))
        self.by_first: dict[str, list[int]] = {}
        for i, p in enumerate(self.pieces):
            if p:
                self.by_first.setdefault(p[0], []).append(i)

    def _allowed(self, partial: str, options: list[str]) -> list[int]:
        """Tokens whose text continues `partial` towards one of `options` (closing quote included)."""
        ok: set[int] = set()
        for o in options:
            full = o + '"'
            if not full.startswith(partial) or len(full) == len(partial):
                continue
            rem = full[len(partial):]
            for i in self.by_first.get(rem[0], ()):
                p = self.pieces[i]
                if rem.startswith(p) or (p.startswith(rem) and self._tail_ok(p[len(rem):])):
                    ok.add(i)
        return sorted(ok)

    @staticmethod
    def _tail_ok(tail: str) -> bool:
        # after a closing quote of a name / key only structure may follow in the same piece
        return re.fullmatch(r'[,:{}\[\]"]*', tail) is not None

    def text_of(self, ids: list[int]) -> str:
        return self.sp.decode([i for i in ids if i > 5])

    @torch.no_grad()
    def decode_batch(self, enc_ids: list[list[int]], tools_list: list[list[dict]]) -> list[tuple[str, float]]:
        """-> per sample (answer text, mean token probability)."""
        B = len(enc_ids)
        n = max(len(e) for e in enc_ids)
        src = torch.zeros(B, n, dtype=torch.long)
        for i, e in enumerate(enc_ids):
            src[i, :len(e)] = torch.tensor(e)
        mask = src != 0
        enc = self.m.encode(src, mask)
        names = [[t["name"] for t in prompt_tools(ts)] for ts in tools_list]
        params = [{t["name"]: _params_of(t) for t in prompt_tools(ts)} for ts in tools_list]
        seqs = [[EOS] for _ in range(B)]
        done = [False] * B
        logp = [[] for _ in range(B)]
        for step in range(self.max_len):
            live = [i for i in range(B) if not done[i]]
            if not live:
                break
            tgt = torch.tensor([seqs[i] for i in live])
            logits = self.m.decode(tgt, enc[live], mask[live])[:, -1].float()
            lp = torch.log_softmax(logits, -1)
            for row, i in enumerate(live):
                if step == 0:
                    choice = TOOL_CALL
                else:
                    text = self.text_of(seqs[i][2:]).lstrip(" ")
                    kind, partial, call = Scanner.state(text)
                    allowed = None
                    if kind == "name":
                        allowed = self._allowed(partial, names[i])
                    elif kind == "key":
                        allowed = self._allowed(partial, params[i].get(call, []))
                    elif kind == "closed":
                        allowed = [EOS]
                    if allowed:
                        sub = lp[row, allowed]
                        choice = allowed[int(sub.argmax())]
                    else:
                        choice = int(lp[row].argmax())
                logp[i].append(float(lp[row, choice]))
                seqs[i].append(choice)
                if choice == EOS:
                    done[i] = True
        out = []
        for i in range(B):
            ids = seqs[i][2:]
            if ids and ids[-1] == EOS:
                ids = ids[:-1]
            conf = float(torch.tensor(logp[i]).exp().min()) if logp[i] else 0.0
            out.append((self.text_of(ids).lstrip(" "), conf))
        return out


def parse_calls(text: str, tools: list[dict]) -> list[dict] | None:
    """Answer text -> calls with the declared (original) tool names; None when it is not valid JSON."""
    try:
        calls = json.loads(text)
    except ValueError:
        return None
    if not isinstance(calls, list):
        return None
    back = {t["name"]: orig["name"] for t, orig in zip(prompt_tools(tools), tools)}
    out = []
    for c in calls:
        if not isinstance(c, dict) or "name" not in c:
            return None
        args = c.get("arguments", {})
        out.append({"name": back.get(c["name"], c["name"]), "arguments": args if isinstance(args, dict) else {}})
    return out


_EMB_CACHE: dict[tuple[int, str], torch.Tensor] = {}


def _embed(model, sp, texts: list[str]) -> torch.Tensor:
    """Retrieval embeddings, cached per (model, text): tool declarations repeat across queries."""
    from needle_prompt import encode_retrieval
    missing = [t for t in texts if (id(model), t) not in _EMB_CACHE]
    if missing:
        ids = [encode_retrieval(sp, t) for t in missing]
        n = max(len(x) for x in ids)
        src = torch.zeros(len(ids), n, dtype=torch.long)
        for i, x in enumerate(ids):
            src[i, :len(x)] = torch.tensor(x)
        with torch.no_grad():
            e = model.embed_text(src, src != 0).float()
        for t, row in zip(missing, e):
            _EMB_CACHE[(id(model), t)] = row
    return torch.stack([_EMB_CACHE[(id(model), t)] for t in texts])


def retrieve(model, sp, query: str, tools: list[dict], k: int) -> list[dict]:
    """The engine's retrieval: keep the k tools whose compact JSON is closest to the query (declaration order kept)."""
    from needle_prompt import tool_text
    if k <= 0 or len(tools) <= k:
        return tools
    e = _embed(model, sp, [tool_text(t) for t in tools])
    q = _embed(model, sp, [query])[0]
    _EMB_CACHE.pop((id(model), query), None)
    sims = (e @ q).tolist()
    keep = sorted(sorted(range(len(tools)), key=lambda i: -sims[i])[:k])
    return [tools[i] for i in keep]

