"""The Needle v1 prompt and answer, exactly as /work/shared/needle-v1.md describes them.

Encoder input: sp.encode(query)[:1022] + [<tools>] + sp.encode(compact tools JSON), cut to 1024.
Decoder input: [eos, <tool_call>] + sp.encode(answer); target: [<tool_call>] + sp.encode(answer) + [eos].
Each target token also gets a role (structure, tool name, argument key, argument value) for the loss weights.
"""
from __future__ import annotations

import json
import re
from typing import Any

PAD, EOS, BOS, UNK, TOOL_CALL, TOOLS = 0, 1, 2, 3, 4, 5
MAX_ENC, MAX_QUERY = 1024, 1022
RETRIEVAL_MAX = 256

# roles and their loss weights (Needle: values 4 > names 2 > keys 1.5 > structure 1)
STRUCT, NAME, KEY, VALUE = 0, 1, 2, 3
ROLE_WEIGHTS = (1.0, 2.0, 1.5, 4.0)


def snake_case(name: str) -> str:
    """Tool names as the prompt has them: non-alphanumerics -> _, camelCase and acronym runs split,
    `_` collapsed, lower case, `_` trimmed."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s)
    s = re.sub(r"_+", "_", s)
    return s.strip("_").lower()


def prompt_tools(tools: list[dict]) -> list[dict]:
    out = []
    for t in tools:
        t2 = dict(t)
        t2["name"] = snake_case(t["name"])
        out.append(t2)
    return out


def tools_text(tools: list[dict]) -> str:
    return json.dumps(prompt_tools(tools), separators=(",", ":"))


def tool_text(tool: dict) -> str:
    """One tool's compact JSON (what the retrieval head embeds)."""
    return json.dumps(prompt_tools([tool])[0], separators=(",", ":"))


def answer_text(answer: list[dict]) -> str:
    return json.dumps([{"name": snake_case(c["name"]), "arguments": c.get("arguments", {})} for c in answer],
                      separators=(",", ":"))


def answer_with_roles(answer: list[dict]) -> tuple[str, list[int]]:
    """The compact answer JSON and a role per character."""
    parts: list[tuple[str, int]] = [("[", STRUCT)]
    for i, c in enumerate(answer):
        if i:
            parts.append((",", STRUCT))
        parts.append(('{"name":"', STRUCT))
        parts.append((json.dumps(snake_case(c["name"]))[1:-1], NAME))
        parts.append(('","arguments":{', STRUCT))
        for j, (k, v) in enumerate(c.get("arguments", {}).items()):
            if j:
                parts.append((",", STRUCT))
            parts.append(('"', STRUCT))
            parts.append((json.dumps(k)[1:-1], KEY))
            parts.append(('":', STRUCT))
            parts.append((json.dumps(v, separators=(",", ":")), VALUE))
        parts.append(("}}", STRUCT))
    parts.append(("]", STRUCT))
    text = "".join(p for p, _ in parts)
    roles = [r for p, r in parts for _ in p]
    assert text == answer_text(answer), (text, answer_text(answer))
    return text, roles


def encode_prompt(sp: Any, query: str, tools: list[dict]) -> list[int]:
    q = sp.encode(query)[:MAX_QUERY]
    t = sp.encode(tools_text(tools))
    return (q + [TOOLS] + t)[:MAX_ENC]


def encode_answer(sp: Any, answer: list[dict]) -> tuple[list[int], list[int], list[int]]:
    """-> (decoder input ids, target ids, target roles)."""
    text, char_roles = answer_with_roles(answer)
    proto = sp.encode(text, out_type="immutable_proto")
    ids, roles = [], []
    for p in proto.pieces:
        ids.append(p.id)
        b, e = p.begin, p.end
        r = max(char_roles[b:e]) if e > b else STRUCT
        roles.append(r)
    return [EOS, TOOL_CALL] + ids, [TOOL_CALL] + ids + [EOS], [STRUCT] + roles + [STRUCT]


def encode_retrieval(sp: Any, text: str) -> list[int]:
    return sp.encode(text)[:RETRIEVAL_MAX]
