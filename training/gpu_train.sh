#!/bin/bash
# Train two models side by side on one lent GPU for a fixed wall time (the device tool's `run`, see
# training/README.md "GPU run"). Everything it reads is in training/data/gpu/ (carried: packed data from
# pack.py, val.pack, the tokenizer, init.pt = the weights that run A continues from); the float16 EMA weights
# and the logs land in $OUT, rewritten at every checkpoint so a run cut short still returns its latest.
#   A: the shipped shape (d256, 6+4 layers), continued from $A_INIT (default init.pt)
#   B: d320 (10 heads x 32, 5 kv heads), 6+4 layers, from scratch
# RUNS picks them (default "a b"); DATA overrides the training files (default: every t*.pack).
set -u
D=${D:-training/data/gpu}
OUT=${OUT:-/tmp/gpu-out}
MINUTES=${MINUTES:-7}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
H=$($PY -c "print($MINUTES / 60)")
DATA=${DATA:-$(ls $D/t*.pack | paste -sd,)}
RUNS=${RUNS:-a b}
common=(--data "$DATA" --val $D/val.pack --tokenizer $D/needle.model
        --device "${DEVICE:-cuda}" --workers "${WORKERS:-4}" --threads 2 --time-schedule --hours "$H"
        --ckpt-minutes "${CKPT_MINUTES:-1.5}" --val-every 500 --log-every 50
        --max-tokens "${MAX_TOKENS:-65536}" --max-batch "${MAX_BATCH:-256}")
[[ " $RUNS " == *" a "* ]] && $PY training/train.py "${common[@]}" --run /tmp/run-a --init "${A_INIT:-$D/init.pt}" \
    --lr "${A_LR:-1e-3}" --warmup "${A_WARMUP:-100}" --decay-frac "${A_DECAY:-0.4}" \
    --half-out "$OUT/a.pt" > "$OUT/a.log" 2>&1 &
[[ " $RUNS " == *" b "* ]] && $PY training/train.py "${common[@]}" --run /tmp/run-b --seed 2 --lr 2e-3 --warmup 200 --decay-frac 0.35 \
    --shape '{"d_model": 320, "num_heads": 10, "num_kv_heads": 5, "head_dim": 32, "encoder_layers": 6, "decoder_layers": 4}' \
    --half-out "$OUT/b.pt" > "$OUT/b.log" 2>&1 &
wait
tail -n 4 "$OUT"/*.log
ls -la "$OUT"
