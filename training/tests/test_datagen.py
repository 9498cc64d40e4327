"""Data generator, prompt/answer encoding and constrained-decoding helpers (real sentencepiece models)."""
import json
import os
import random
import re

import pytest
import sentencepiece as spm

from datagen import spoken
from datagen.generate import (CONFUSABLE, Builder, label_example, load_catalogue, load_plugin_examples,
                              vary_decl)
from datagen.template import expand
from needle_decode import ConstrainedDecoder, Scanner, parse_calls
from needle_prompt import (EOS, KEY, NAME, STRUCT, TOOL_CALL, TOOLS, VALUE, answer_text, answer_with_roles,
                           encode_answer, encode_prompt, snake_case, tools_text)

CATALOGUE = {d["name"]: d for d in load_catalogue()}
N = 3000


@pytest.fixture(scope="module")
def samples():
    b = Builder(seed=11)
    return [b.one() for _ in range(N)]


def _props(decl):
    p = decl["parameters"]
    if "properties" in p:
        return p["properties"], set(p.get("required", []))
    return {k: v for k, v in p.items()}, {k for k, v in p.items() if v.get("required") is True}


def test_same_seed_same_data_other_seed_other_data():
    a = [Builder(seed=5).one() for _ in range(50)]
    b = [Builder(seed=5).one() for _ in range(50)]
    c = [Builder(seed=6).one() for _ in range(50)]
    assert a == b
    assert a != c


def test_catalogue_declarations_are_the_daemons(samples):
    for d in CATALOGUE.values():
        assert set(d) <= {"name", "description", "parameters"}
    assert len(CATALOGUE) == 18


def test_calls_name_a_declared_tool_with_declared_and_required_arguments(samples):
    for s in samples:
        declared = {t["name"]: t for t in s["tools"]}
        assert len(declared) == len(s["tools"]), "duplicate tool names in a prompt"
        for call in s["answer"]:
            assert call["name"] in declared, (s["query"], call)
            props, req = _props(declared[call["name"]])
            assert set(call["arguments"]) <= set(props), (s["query"], call)
            assert req <= set(call["arguments"]), (s["query"], call)


def test_string_values_are_spans_of_the_utterance(samples):
    n = 0
    for s in samples:
        for call in s["answer"]:
            props, _ = _props(next(t for t in s["tools"] if t["name"] == call["name"]))
            for k, v in call["arguments"].items():
                if isinstance(v, str) and "enum" not in props.get(k, {}) and k != "mode":
                    assert v in s["query"], (s["query"], k, v)
                    n += 1
    assert n > N // 2


def test_numbers_are_numbers_and_enums_are_declared_values(samples):
    seen = set()
    for s in samples:
        for call in s["answer"]:
            props, _ = _props(next(t for t in s["tools"] if t["name"] == call["name"]))
            for k, v in call["arguments"].items():
                t = props[k].get("type")
                if t == "integer":
                    assert isinstance(v, int) and not isinstance(v, bool)
                elif t == "number":
                    assert isinstance(v, (int, float)) and not isinstance(v, bool)
                elif t == "boolean":
                    assert isinstance(v, bool)
                if "enum" in props[k]:
                    assert v in props[k]["enum"]
                if call["name"] == "set_light" and k == "brightness":
                    assert 0 <= v <= 100
                    seen.add("brightness")
    assert "brightness" in seen


def test_negative_share_and_kinds(samples):
    neg = [s for s in samples if not s["answer"]]
    assert len(neg) / len(samples) >= 0.20
    kinds = {s["kind"] for s in samples}
    assert {"catalogue", "frame", "random", "neg_undeclared", "neg_frame_undeclared", "multi"} <= kinds
    assert any(k.startswith("neg_") and k not in ("neg_undeclared", "neg_frame_undeclared") for k in kinds)


def test_undeclared_negatives_leave_out_the_tool_and_its_confusables(samples):
    # regenerate the utterance's tool is impossible from the sample; check the invariant on names instead:
    for s in samples:
        if s["kind"] == "neg_undeclared":
            names = {t["name"] for t in s["tools"]}
            # at least one catalogue tool + its confusables are absent, and no call is made
            assert s["answer"] == []
            assert any(({t} | CONFUSABLE[t]).isdisjoint(names) for t in CATALOGUE)


def test_prompt_sizes_vary_from_one_to_whole_catalogue(samples):
    sizes = [len(s["tools"]) for s in samples]
    assert min(sizes) == 1
    assert max(sizes) >= 18
    assert sum(1 for n in sizes if n <= 8) / len(sizes) > 0.8


def test_synthetic_tools_and_declaration_variants_appear(samples):
    names = {t["name"] for s in samples for t in s["tools"]}
    assert len(names - set(CATALOGUE)) > 100
    flat = [t for s in samples for t in s["tools"] if "properties" not in t["parameters"] and t["parameters"]]
    assert flat, "no Needle-v1 flat declarations generated"
    paraphrased = [t for s in samples for t in s["tools"]
                   if t["name"] in CATALOGUE and t.get("description") != CATALOGUE[t["name"]]["description"]]
    assert paraphrased


def test_speech_style_and_typed_style_both_present(samples):
    qs = [s["query"] for s in samples]
    assert sum(1 for q in qs if q == q.lower() and not re.search(r"[?!,]", q)) > N * 0.3
    assert sum(1 for q in qs if q[:1].isupper()) > N * 0.1
    assert any(re.search(r"\b(um|uh|hey needle|please|could you)\b", q.lower()) for q in qs)


def test_retrieval_pairs_only_for_positives(samples):
    for s in samples:
        if s["answer"] and s["kind"] != "multi":
            assert s["retrieval"]["name"] == s["answer"][0]["name"]
        if not s["answer"]:
            assert s["retrieval"] is None


def test_vary_decl_never_changes_name_or_required():
    rng = random.Random(0)
    for _ in range(200):
        for d in CATALOGUE.values():
            v = vary_decl(d, rng, p=1.0)
            assert v["name"] == d["name"]
            _, req = _props(v)
            assert req == set(d["parameters"].get("required", []))


def test_spoken_forms():
    assert spoken.num_words(21) == "twenty one"
    assert spoken.num_words(105) == "one hundred and five"
    rng = random.Random(3)
    durs = {spoken.duration(rng) for _ in range(400)}
    assert any(" and " in d for d in durs) and any(d[0].isdigit() for d in durs)
    times = {spoken.clock_time(rng) for _ in range(400)}
    assert any("half past" in t for t in times) and any(":" in t for t in times)
    assert any(t.split()[0].isalpha() for t in times)


def test_template_expansion():
    rng = random.Random(1)
    outs = {expand("(set|start) [a|the] timer for {d}", rng) for _ in range(100)}
    assert outs == {"set a timer for {d}", "set the timer for {d}", "set timer for {d}",
                    "start a timer for {d}", "start the timer for {d}", "start timer for {d}"}


def test_plugin_examples(tmp_path):
    decl = [{"name": "water_plants", "description": "Water a garden zone",
             "parameters": {"type": "object", "properties": {
                 "zone": {"type": "string", "enum": ["front", "back"]},
                 "minutes": {"type": "integer"}}, "required": ["zone"]},
             "examples": ["water the front garden for 10 minutes", "water the plants",
                          {"query": "soak the back lawn", "arguments": {"zone": "back"}}]}]
    f = tmp_path / "tools.json"
    f.write_text(json.dumps(decl))
    loaded = load_plugin_examples(f)
    assert len(loaded) == 1
    d, exs = loaded[0]
    assert "examples" not in d
    assert ("water the front garden for 10 minutes", {"zone": "front", "minutes": 10}) in exs
    assert ("soak the back lawn", {"zone": "back"}) in exs
    assert all(q != "water the plants" for q, _ in exs), "unlabelable example (required zone) must be skipped"
    assert label_example(d, "water the plants") is None
    b = Builder(seed=2, plugin_files=[f])
    got = [b.one() for _ in range(1500)]
    pos = [s for s in got if s["kind"] == "plugin"]
    negs = [s for s in got if s["kind"] == "neg_plugin_undeclared"]
    assert pos and negs
    for s in pos:
        assert s["answer"][0]["name"] == "water_plants"
        assert any(t["name"] == "water_plants" for t in s["tools"])
    for s in negs:
        assert all(t["name"] != "water_plants" for t in s["tools"])


# ---------------------------------------------------------------------------- prompt / answer encoding


@pytest.fixture(scope="module")
def sp(tmp_path_factory):
    """A real small BPE model with the Needle layout, trained on generated text."""
    d = tmp_path_factory.mktemp("tok")
    b = Builder(seed=3)
    lines = []
    for _ in range(600):
        s = b.one()
        lines += [s["query"], answer_text(s["answer"]), tools_text(s["tools"][:3])]
    (d / "c.txt").write_text("\n".join(lines))
    spm.SentencePieceTrainer.train(input=str(d / "c.txt"), model_prefix=str(d / "m"), model_type="bpe",
                                   vocab_size=1200, pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                                   user_defined_symbols=["<tool_call>", "<tools>"], byte_fallback=True,
                                   normalization_rule_name="identity", character_coverage=1.0,
                                   split_digits=True, max_sentence_length=32768, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=str(d / "m.model"))


def test_snake_case():
    assert snake_case("setTimer") == "set_timer"
    assert snake_case("HTTPServerStatus") == "http_server_status"
    assert snake_case("turn-on lights!") == "turn_on_lights"
    assert snake_case("__a__b__") == "a_b"


def test_encoder_input_layout(sp):
    tools = list(CATALOGUE.values())
    ids = encode_prompt(sp, "set a timer for 5 minutes", tools)
    q = sp.encode("set a timer for 5 minutes")
    assert ids[:len(q)] == q and ids[len(q)] == TOOLS
    assert ids[len(q) + 1:] == sp.encode(json.dumps(tools, separators=(",", ":")))[:1024 - len(q) - 1]
    long = encode_prompt(sp, "x " * 3000, tools)
    assert len(long) == 1024 and long[1022] == TOOLS


def test_answer_ids_and_roles(sp):
    ans = [{"name": "set_light", "arguments": {"target": "kitchen", "brightness": 30}}]
    text, roles = answer_with_roles(ans)
    assert text == json.dumps(ans, separators=(",", ":"))
    dec_in, tgt, r = encode_answer(sp, ans)
    body = sp.encode(text)
    assert dec_in == [EOS, TOOL_CALL] + body
    assert tgt == [TOOL_CALL] + body + [EOS]
    assert len(r) == len(tgt)
    pieces = [sp.id_to_piece(i) for i in body]
    joined = "".join(pieces).replace("\u2581", " ")
    assert joined.strip() == text
    assert VALUE in r and NAME in r and KEY in r and STRUCT in r
    # the pieces of "kitchen" are value pieces
    pos = 0
    for p, role in zip(pieces, r[1:-1]):
        p = p.replace("\u2581", " ")
        if "kitchen" in text[max(0, pos - 1):pos + len(p)] and p.strip() in "kitchen" and p.strip():
            assert role == VALUE
        pos += len(p)
    empty_in, empty_tgt, _ = encode_answer(sp, [])
    assert empty_tgt[0] == TOOL_CALL and empty_tgt[-1] == EOS
    assert sp.decode(empty_tgt[1:-1]) == "[]"


def test_scanner_states():
    assert Scanner.state('[{"name":"set_ti')[:2] == ("name", "set_ti")
    st = Scanner.state('[{"name":"set_timer","arguments":{"dur')
    assert st == ("key", "dur", "set_timer")
    assert Scanner.state('[{"name":"set_timer","arguments":{"duration":"5 m')[0] == "free"
    assert Scanner.state('[{"name":"a","arguments":{"x":"y"}}]')[0] == "closed"
    assert Scanner.state("[]")[0] == "closed"


def test_allowed_tokens_spell_only_declared_names(sp):
    class Dummy:
        pass
    dec = ConstrainedDecoder(Dummy(), sp)
    allowed = dec._allowed("set_", ["set_timer", "set_alarm", "turn_on"])
    texts = {dec.pieces[i] for i in allowed}
    assert texts, "nothing allowed"
    for t in texts:
        s = "set_" + t
        assert any(("set_timer\"".startswith(s) or s.startswith("set_timer\"")) or
                   ("set_alarm\"".startswith(s) or s.startswith("set_alarm\"")) for _ in [0]), t
    assert not any(t.startswith("turn") for t in texts)


def test_parse_calls_maps_names_back():
    tools = [{"name": "setTimer", "parameters": {}}]
    assert parse_calls('[{"name":"set_timer","arguments":{"duration":"5 minutes"}}]', tools) == \
        [{"name": "setTimer", "arguments": {"duration": "5 minutes"}}]
    assert parse_calls("[]", tools) == []
    assert parse_calls("[{", tools) is None


def _catalogue_values(rate, seed=21, n=1500):
    from datagen import novel
    old = novel.rate
    novel.rate = rate
    try:
        b = Builder(seed=seed)
        out = []
        for _ in range(n):
            s = b.one()
            if s["kind"] == "catalogue":
                out += [(s["query"], v) for c in s["answer"] for k, v in c["arguments"].items()
                        if isinstance(v, str) and k in ("target", "text", "destination", "scene", "name")]
        return out
    finally:
        novel.rate = old


def test_novel_values_bring_words_no_vocabulary_has_and_stay_spans():
    from datagen import catalogue, vocab
    known = set()
    for lst in (vocab.ROOMS, vocab.LIGHT_DEVICES, vocab.OTHER_DEVICES, vocab.COVERS, vocab.LOCKS, vocab.SCENES,
                vocab.PLACES_GENERIC, vocab.CITIES, vocab.LANDMARKS, catalogue._TASKS, catalogue.ALARM_NAMES):
        for v in lst:
            known.update(v.lower().split())

    def unknown_share(pairs):
        vals = [v for _, v in pairs]
        return sum(any(w not in known for w in v.lower().split()) for v in vals) / len(vals)

    plain, novel_ = _catalogue_values(0.0), _catalogue_values(0.5)
    for q, v in novel_:
        assert v in q, (q, v)
    assert unknown_share(novel_) > unknown_share(plain) + 0.15


def test_novel_rate_zero_leaves_the_generator_as_it_was():
    # rate 0 draws nothing extra from the rng, so files made before --novel existed are reproducible
    assert _catalogue_values(0.0, seed=3, n=200) == _catalogue_values(0.0, seed=3, n=200)
    assert _catalogue_values(0.0, seed=3, n=200) != _catalogue_values(0.5, seed=3, n=200)
