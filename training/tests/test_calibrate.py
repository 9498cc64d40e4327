"""training/calibrate.py: the floor choice and its guard against tuning on the evaluation sets."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import calibrate  # noqa: E402

SCORER = os.path.join(os.path.dirname(calibrate.ROOT), "shared", "eval", "score.py")


def test_best_takes_the_highest_score_and_the_lower_floor_on_ties():
    rows = [{"min_confidence": 0.0, "score": 1.5}, {"min_confidence": 0.1, "score": 1.7},
            {"min_confidence": 0.2, "score": 1.7}, {"min_confidence": 0.3, "score": 1.4}]
    assert calibrate.best(rows)["min_confidence"] == 0.1


@pytest.mark.parametrize("data", ["/work/shared/eval/catalogue-dev.jsonl", "training/heldout/heldout.jsonl"])
def test_refuses_the_dev_and_heldout_sets(data):
    with pytest.raises(SystemExit) as e:
        calibrate.main(["--model", "models/default", "--data", data])
    assert e.value.code == 2


@pytest.mark.skipif(not os.path.exists(SCORER), reason="the eval kit's score.py is not here")
def test_floor_scores_withholds_low_confidence_calls(tmp_path):
    data = tmp_path / "gen.jsonl"
    items = [{"id": "a", "query": "turn on the lamp", "expected": [{"name": "turn_on", "arguments": {"target": "lamp"}}]},
             {"id": "b", "query": "tell me a joke", "expected": []}]
    data.write_text("".join(json.dumps(x) + "\n" for x in items))
    preds = [{"id": "a", "calls": items[0]["expected"], "confidence": 0.9},
             {"id": "b", "calls": [{"name": "turn_on", "arguments": {"target": "joke"}}], "confidence": 0.05}]
    rows = calibrate.floor_scores(preds, str(data), SCORER, [0.0, 0.1, 0.95])
    assert [r["call_accuracy"] for r in rows] == [0.5, 1.0, 0.5]
    assert [r["refusal_accuracy"] for r in rows] == [0.0, 1.0, 1.0]
    assert [r["score"] for r in rows] == [0.5, 2.0, 1.5]
    assert calibrate.best(rows)["min_confidence"] == 0.1


def test_right_single_call_similarities_takes_right_single_calls_in_both_formats():
    items = [{"id": "a", "query": "q", "expected": [{"name": "turn_on", "arguments": {}}]},     # right
             {"id": "b", "query": "q", "expected": [{"name": "turn_on", "arguments": {}}]},     # wrong tool
             {"id": "c", "query": "q", "expected": []},                                         # negative
             {"query": "q", "tools": [], "answer": [{"name": "x", "arguments": {}}]},           # training format, right
             {"query": "q", "tools": [], "answer": [{"name": "x"}, {"name": "y"}]},            # two calls
             {"query": "q", "tools": [], "answer": [{"name": "x", "arguments": {}}]}]           # not scored
    preds = [{"calls": [{"name": "turn_on"}], "tool_similarity": 0.91},
             {"calls": [{"name": "turn_off"}], "tool_similarity": 0.5},
             {"calls": [{"name": "turn_on"}], "tool_similarity": 0.4},
             {"calls": [{"name": "x"}], "tool_similarity": 0.77},
             {"calls": [{"name": "x"}, {"name": "y"}], "tool_similarity": 0.2},
             {"calls": [{"name": "x"}]}]
    assert calibrate.right_single_call_similarities(items, preds) == [0.91, 0.77]


def test_similarity_floor_keeps_the_share_and_rounds_down():
    sims = [0.5 + i / 1000 for i in range(300)]          # 0.500 .. 0.799
    # 1% of 300 = 3 below the floor: the 4th lowest, 0.503, rounded down to 0.50
    assert calibrate.similarity_floor(sims) == 0.5
    assert calibrate.similarity_floor([0.9] * 150 + [0.2] * 150, keep=0.4) == 0.9
    assert calibrate.similarity_floor([0.9] * 50) is None  # too few to set a floor on
    assert calibrate.similarity_floor([-0.3] * 300) == 0.0
