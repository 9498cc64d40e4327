#!/usr/bin/python3
"""Train Needle on generated data, on the CPU.

  /usr/bin/python3 training/train.py --data training/data/train.jsonl --val training/data/val.jsonl \
      --tokenizer training/runs/tok/needle.model --run training/runs/main [--resume] [--hours 4]

Loss: token cross-entropy weighted by role (argument values 4, tool names 2, argument keys 1.5, structure 1)
+ z-loss + 0.1 x contrastive retrieval loss (query vs the JSON of the tool it calls, temperature exp(log_temp)).
AdamW, warmup then constant then a final decay (the last --decay-frac of the steps), bf16 autocast
(fp32 weights and norms). A checkpoint (`RUN/last.pt`, the format training/export.py reads) is written every
--ckpt-minutes and at the end; `--resume` continues from it (data position, optimiser, schedule).
The loop only looks at wall time between steps, so SIGSTOP/SIGCONT pauses do no harm.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from needle.checkpoint import save_checkpoint  # noqa: E402
from needle.model import Needle, NeedleConfig  # noqa: E402
from needle_data import collate, concat_datasets, load_packed, make_batches, tokenize_file  # noqa: E402

DEFAULT_SHAPE = dict(d_model=256, num_heads=8, num_kv_heads=4, head_dim=32, encoder_layers=6, decoder_layers=4)


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def bar(frac: float, width: int = 24) -> str:
    n = int(round(frac * width))
    return "[" + "#" * n + "." * (width - n) + "]"


def _warm_cosine(step: int, t: float, peak: float, warmup: int, floor: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine from peak to floor * peak as t (decay progress) goes 0 -> 1."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, max(0.0, t))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def lr_at(step: int, total: int, peak: float, warmup: int, decay_frac: float, floor: float = 0.05) -> float:
    decay_start = int(total * (1 - decay_frac))
    return _warm_cosine(step, (step - decay_start) / max(1, total - decay_start), peak, warmup, floor)


def lr_at_time(step: int, frac: float, peak: float, warmup: int, decay_frac: float, floor: float = 0.05) -> float:
    """The same shape as lr_at, with the decay placed by the fraction of the wall-time budget spent (a fast
    machine's step rate is not known in advance)."""
    return _warm_cosine(step, (frac - (1 - decay_frac)) / decay_frac, peak, warmup, floor)


def losses(model: Needle, b: dict, bf16: bool, zloss_w: float, con_w: float):
    """-> (loss to minimise, metrics as 0-d tensors: reading them waits for the device, so callers batch it)"""
    dev = b["enc"].device.type
    with torch.autocast(dev, dtype=torch.bfloat16, enabled=bf16):
        enc = model.encode(b["enc"], b["enc_mask"])
        logits = model.decode(b["dec_in"], enc, b["enc_mask"])
    logits = logits.float()
    V = logits.shape[-1]
    tgt = b["tgt"]
    ce = F.cross_entropy(logits.view(-1, V), tgt.view(-1), ignore_index=-100, reduction="none").view(tgt.shape)
    w = b["w"]
    tok = (ce * w).sum() / w.sum()
    valid = (tgt != -100).float()
    z = torch.logsumexp(logits, -1)
    zl = (z.pow(2) * valid).sum() / valid.sum()
    with torch.no_grad():
        acc = ((logits.argmax(-1) == tgt).float() * valid).sum() / valid.sum()
    total = tok + zloss_w * zl
    con = torch.zeros((), device=logits.device)
    if con_w > 0 and "rq" in b:
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=bf16):
            eq = model.embed_text(b["rq"], b["rq"] != 0).float()
            et = model.embed_text(b["rt"], b["rt"] != 0).float()
        scale = torch.exp(-model.log_temp)
        sims = eq @ et.t() * scale
        lab = b["r_label"]
        con_q = F.cross_entropy(sims, lab)
        # tool -> query direction: the queries of a tool are all positives; use the mean over them
        pos = F.one_hot(lab, et.shape[0]).t().float()  # [tools, queries]
        lt = torch.log_softmax(sims.t(), -1)
        con_t = -(lt * pos).sum(-1).div(pos.sum(-1).clamp_min(1)).mean()
        con = 0.5 * (con_q + con_t)
        total = total + con_w * con
    return total, {"tok": tok.detach(), "z": zl.detach(), "con": con.detach(), "acc": acc}


@torch.no_grad()
def validate(model: Needle, ds, bf16: bool, n_batches: int = 20, device: str = "cpu") -> dict:
    """Teacher-forced loss, token accuracy and whole-answer exactness on generated validation data."""
    model.eval()
    batches = make_batches(ds, 12345, 0, 6000, 48)[:n_batches]
    tok = acc = 0.0
    exact = count = 0
    for bi in batches:
        b = to_device(collate(ds, bi), device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            logits = model(b["enc"], b["enc_mask"], b["dec_in"])
        logits = logits.float()
        tgt, w = b["tgt"], b["w"]
        ce = F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=-100,
                             reduction="none").view(tgt.shape)
        tok += float((ce * w).sum() / w.sum())
        valid = tgt != -100
        pred = logits.argmax(-1)
        acc += float(((pred == tgt) & valid).sum() / valid.sum())
        exact += int(((pred == tgt) | ~valid).all(-1).sum())
        count += len(bi)
    model.train()
    k = max(1, len(batches))
    return {"val_tok": tok / k, "val_acc": acc / k, "val_exact_tf": exact / max(1, count)}


def to_device(b: dict, device: str) -> dict:
    if device == "cpu":
        return b
    return {k: v.to(device, non_blocking=True) for k, v in b.items()}


class _Collated(torch.utils.data.Dataset):
    """Batches collated in DataLoader workers (on a GPU the main process only launches kernels)."""

    def __init__(self, ds, batches: list[list[int]], con_pairs: int):
        self.ds, self.batches, self.con_pairs = ds, batches, con_pairs

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict:
        return collate(self.ds, self.batches[i], self.con_pairs)


def batch_stream(ds, seed: int, epoch: int, pos: int, args):
    """Yield (epoch, pos after this batch, batch size, collated batch) from (epoch, pos) on, forever."""
    while True:
        batches = make_batches(ds, seed, epoch, args.max_tokens, args.max_batch)
        if args.workers > 0:
            it = iter(torch.utils.data.DataLoader(_Collated(ds, batches[pos:], args.con_pairs), batch_size=None,
                                                  shuffle=False, num_workers=args.workers, prefetch_factor=8,
                                                  pin_memory=args.device != "cpu", persistent_workers=False))
        else:
            it = (collate(ds, bi, args.con_pairs) for bi in batches[pos:])
        for k, b in enumerate(it):
            yield epoch, pos + k + 1, len(batches[pos + k]), b
        epoch, pos = epoch + 1, 0


def load_data(spec: str, sp, tok_path: str, cache: str, limit: int | None):
    """--data: one JSONL file, or packed files (pack.py), comma-separated."""
    parts = []
    for path in spec.split(","):
        if path.endswith(".pack"):
            parts.append(load_packed(path, sp))
        else:
            parts.append(tokenize_file(path, sp, tok_path, cache, limit))
    return parts[0] if len(parts) == 1 else concat_datasets(parts)


def save_weights(path: str, config: dict, weights: dict, step: int, half: bool = False) -> None:
    """Weights as a checkpoint of their own (what export.py reads), written atomically; `half`: in float16,
    half the bytes, for copying a checkpoint off a training machine."""
    cast = (lambda v: v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu()) if half \
        else (lambda v: v.detach().cpu())
    tmp = path + f".tmp{os.getpid()}"
    torch.save({"config": config, "model": {k: cast(v) for k, v in weights.items()}, "step": step}, tmp)
    os.replace(tmp, path)


def save_half(path: str, config: dict, ema: dict, step: int) -> None:
    save_weights(path, config, ema, step, half=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", required=True, help="JSONL, or packed files from pack.py (comma-separated)")
    ap.add_argument("--val", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--run", required=True, help="run directory (checkpoints, cache)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from these weights (a checkpoint or ema.pt), fresh optimiser")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader workers collating batches (0: inline)")
    ap.add_argument("--half-out", default="", help="also write the EMA weights in float16 to this file at each save")
    ap.add_argument("--new-data", action="store_true",
                    help="with --resume: --data is a different file; start it from its first batch (weights, "
                         "optimiser and step are kept)")
    ap.add_argument("--shape", default=json.dumps(DEFAULT_SHAPE), help="JSON of NeedleConfig fields")
    ap.add_argument("--hours", type=float, default=4.0, help="wall-time budget (the schedule is sized from it)")
    ap.add_argument("--time-schedule", action="store_true",
                    help="decay the learning rate by wall time spent of --hours and stop at the budget")
    ap.add_argument("--total-steps", type=int, default=0, help="planned steps (0: estimate from --hours)")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--decay-frac", type=float, default=0.2)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-tokens", type=int, default=6000, help="padded encoder tokens per batch")
    ap.add_argument("--max-batch", type=int, default=48)
    ap.add_argument("--zloss", type=float, default=1e-4)
    ap.add_argument("--contrastive", type=float, default=0.1)
    ap.add_argument("--con-pairs", type=int, default=8, help="retrieval pairs per batch for the contrastive loss")
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--ema", type=float, default=0.998,
                    help="EMA decay of the weights; RUN/ema.pt (exporter format) is written with each checkpoint")
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training samples")
    ap.add_argument("--pid-file", default="", help="write this process's pid here (others pause it with SIGSTOP)")
    args = ap.parse_args(argv)

    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(args.pid_file + ".tmp", args.pid_file)
    torch.set_num_threads(args.threads)
    if args.device != "cpu":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    bf16 = not args.no_bf16
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "last.pt")

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    cache = os.path.join(args.run, "cache")
    log(f"tokenizing {args.data} ...")
    ds = load_data(args.data, sp, args.tokenizer, cache, args.limit or None)
    val = load_data(args.val, sp, args.tokenizer, cache, None)
    log(f"train {len(ds)} samples, val {len(val)}; {len(ds.tool_texts)} distinct retrieval tools")

    state = None
    if args.resume and os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu")
        cfg = NeedleConfig.from_dict(state["config"])
    elif args.init:
        init = torch.load(args.init, map_location="cpu")
        cfg = NeedleConfig.from_dict(init["config"])
    else:
        cfg = NeedleConfig(**{**json.loads(args.shape), "vocab_size": sp.get_piece_size()})
    model = Needle(cfg)
    if state is None and args.init:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in init["model"].items()})
        log(f"weights from {args.init} (step {init.get('step', '?')})")
    model.to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model {json.dumps({k: v for k, v in cfg.to_dict().items() if k in DEFAULT_SHAPE})} params {n_params / 1e6:.2f}M")

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if (n.endswith("_proj") or n.endswith("_kernel")) else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
    step, epoch, pos = 0, 0, 0
    total_steps = args.total_steps
    elapsed_before = 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, epoch, pos = state["step"], state["epoch"], state["pos"]
        elapsed_before = state.get("elapsed", 0.0)
        if not total_steps:
            total_steps = state.get("total_steps", 0)
        if args.new_data:
            epoch, pos = 0, 0
        log(f"resumed at step {step} (epoch {epoch}, batch {pos}, {elapsed_before / 3600:.2f} h trained)")
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if state is not None and state.get("ema"):
        ema = {k: v.to(args.device).clone() for k, v in state["ema"].items()}
    ema_keys = [k for k, v in ema.items() if v.is_floating_point()]
    ema_vals = [ema[k] for k in ema_keys]

    stream = batch_stream(ds, args.seed, epoch, pos, args)
    plan_steps = not args.total_steps and not args.time_schedule
    step0 = step
    stop = {"flag": False}

    def on_term(signum, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    def save():
        save_checkpoint(ckpt_path, model, optimizer=opt.state_dict(), step=step, epoch=epoch, pos=pos,
                        total_steps=total_steps, elapsed=elapsed_before + (time.time() - t_start),
                        args=vars(args), ema=ema)
        # the EMA weights as a checkpoint of their own (what gets evaluated and exported)
        save_weights(os.path.join(args.run, "ema.pt"), model.config.to_dict(), ema, step)
        if args.half_out:
            save_half(args.half_out, model.config.to_dict(), ema, step)

    model.train()
    t_start = time.time()
    last_ckpt = time.time()
    win = {"tok": 0.0, "z": 0.0, "con": 0.0, "acc": 0.0, "n": 0, "samples": 0, "t": time.time()}
    budget = args.hours * 3600
    while not stop["flag"]:
        spent = (time.time() - t_start) / budget
        if args.time_schedule and spent >= 1.0:
            log("wall-time budget spent")
            break
        epoch, pos, n_samples, b = next(stream)
        b = to_device(b, args.device)
        if plan_steps and step >= 50 and step % 250 == 50 and step < (1 - args.decay_frac) * (total_steps or 1e9) - 300:
            # size the schedule from the measured speed and the wall-time budget (re-planned while the
            # learning rate is still constant, since other jobs share the CPU)
            rate = (step - step0) / max(1.0, time.time() - t_start)
            total_steps = int(step + rate * (budget - elapsed_before - (time.time() - t_start)))
            log(f"planned total steps: {total_steps} ({rate:.2f} steps/s)")
        if args.time_schedule:
            lr = lr_at_time(step, spent, args.lr, args.warmup, args.decay_frac)
        else:
            lr = lr_at(step, total_steps or 10 ** 9, args.lr, args.warmup, args.decay_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        loss, m = losses(model, b, bf16, args.zloss, args.contrastive)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.log_temp.clamp_(math.log(0.01), math.log(1.0))
            sd = model.state_dict()
            torch._foreach_mul_(ema_vals, args.ema)
            torch._foreach_add_(ema_vals, [sd[k] for k in ema_keys], alpha=1 - args.ema)
        step += 1
        for k in ("tok", "z", "con", "acc"):
            win[k] += m[k]
        win["n"] += 1
        win["samples"] += n_samples
        if step % args.log_every == 0:
            win.update({k: float(win[k]) for k in ("tok", "z", "con", "acc")})
            dt = time.time() - win["t"]
            n = win["n"]
            frac = step / total_steps if total_steps else spent if args.time_schedule else 0.0
            el = elapsed_before + time.time() - t_start
            log(f"{bar(frac)} step {step}/{total_steps or '?'} ep {epoch} loss {win['tok'] / n:.4f} acc {win['acc'] / n:.3f} "
                f"z {win['z'] / n:.1f} con {win['con'] / n:.3f} lr {lr:.2e} gn {float(gn):.2f} "
                f"{win['samples'] / dt:.1f} samp/s elapsed {el / 3600:.2f}h")
            win = {"tok": 0.0, "z": 0.0, "con": 0.0, "acc": 0.0, "n": 0, "samples": 0, "t": time.time()}
        if step % args.val_every == 0:
            v = validate(model, val, bf16, device=args.device)
            log("val " + json.dumps({k: round(x, 4) for k, x in v.items()}) + f" step {step}")
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
            log(f"checkpoint {ckpt_path} (step {step})")
        if total_steps and step >= total_steps:
            break
        if plan_steps and elapsed_before + time.time() - t_start > budget * 1.03:
            log("wall-time budget spent")
            break
    save()
    log(f"saved {ckpt_path} at step {step}; {'stopped by signal' if stop['flag'] else 'done'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
