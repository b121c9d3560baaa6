#!/usr/bin/env bash
# Makes results/timing/scale/early-stop/NAME.md and its runs: SASRec over a million items, to early stop.
# Million-item training to early stop: a generated log (seqrec generate), then on it
#   - popularity (the floor to beat);
#   - SASRec+CCE, the full softmax over the whole catalogue (--item-block 0: the automatic block);
#   - SASRec with sampled softmax + logQ, 256 shared negatives from the training popularity (the
#     usual way around a large catalogue),
# each until early stop (PATIENCE, 3 by default) or the deadline. A rerun continues each training from its
# state (--resume) on the same machine (the state lives beside OUT, nowhere else); a finished one is kept.
# Writes OUT/NAME-{pop,cce,sampled_softmax}.{json,log,ranks.h5} and the table OUT/NAME.md
# (`seqrec table OUT/NAME-*.json` tests the methods against each other on the per-user ranks).
# Usage: results/timing/scale/early-stop/scale_early_stop.sh OUT   (from the repository root)
# env: BIN (build/seqrec), WORK (/tmp/seqrec-scale: the log and its cache), DEVICE (cpu), THREADS (1),
#      USERS (5000), ITEMS (1700000), MIN_LEN (1000), MAX_LEN (3000): the defaults give 1,018,331
#      items in 10.0 M interactions, long histories over a large catalogue as in music listening;
#      BATCH (256; another size names the outputs NAME-bBATCH: at a million items an epoch's cost is
#      fixed by its positions, so smaller batches buy more updates an epoch for the same time),
#      PATIENCE (3; another value names the outputs NAME-pPATIENCE: validation curves here can dip for
#      a few epochs before they climb, so a short patience may stop a training at its first dip),
#      LOSSES (cce sampled_softmax: the trainings to run; the table reads all),
#      BUDGET (seconds; 0: no deadline; else each training gets half of what is left after popularity).
set -uo pipefail
out=$1 bin=${BIN:-build/seqrec} work=${WORK:-/tmp/seqrec-scale} device=${DEVICE:-cpu} threads=${THREADS:-1}
users=${USERS:-5000} items=${ITEMS:-1700000} min_len=${MIN_LEN:-1000} max_len=${MAX_LEN:-3000} budget=${BUDGET:-0}
batch=${BATCH:-256} patience=${PATIENCE:-3}
t0=$(date +%s)
mkdir -p "$out" "$work"
name=u$users-l$min_len-$max_len-i$items-$device$( ((batch != 256)) && echo "-b$batch")$( ((patience != 3)) && echo "-p$patience")
data=$work/gen-u$users-l$min_len-$max_len-i$items.inter
[[ -f $data ]] || "$bin" generate --out "$data" --users "$users" --items "$items" --min-len "$min_len" \
  --max-len "$max_len" --seed 1 > /dev/null || exit 1
common=(--data "$data" --cache-dir "$work/cache" --device "$device" --threads "$threads" --max-len 20 --batch-size "$batch")
[[ -f $out/$name-pop.json ]] || "$bin" train "${common[@]}" --model pop --ranks "$out/$name-pop.ranks.h5" --output "$out/$name-pop.json" \
  > "$out/$name-pop.log" 2>&1
half=0 && ((budget > 0)) && half=$(( (budget - ($(date +%s) - t0) - 30) / 2 ))
for loss in ${LOSSES:-cce sampled_softmax}; do
  [[ -f $out/$name-$loss.json ]] && continue
  proposal=() && [[ $loss == sampled_softmax ]] && proposal=(--sampled-softmax.proposal popularity)
  deadline=() && ((half > 0)) && deadline=(timeout -k 30 "$half")
  "${deadline[@]}" "$bin" train "${common[@]}" --sasrec.hidden-size 64 --batching padded --patience "$patience" --progress lines \
    --item-block 0 --loss $loss "${proposal[@]}" --resume --ranks "$out/$name-$loss.ranks.h5" --output "$out/$name-$loss.json" >> "$out/$name-$loss.log" 2>&1 ||
    echo "$loss: stopped at the deadline or failed: $(tail -1 "$out/$name-$loss.log")"
done
python3 - "$out" "$name" > "$out/$name.md" <<'PY'
import json, os, sys
out, name = sys.argv[1:]
rows, data, batch, patience = [], None, None, None
for m in ["pop", "cce", "sampled_softmax"]:
    f = f"{out}/{name}-{m}.json"
    if not os.path.exists(f):
        rows.append(f"| {m} | no result yet (see {name}-{m}.log) ||||||||||")
        continue
    r = json.load(open(f))
    data, t, s, c = r["dataset"], r["timing"], r["seqrec"], r["config"]
    if m != "pop": batch, patience = c["batch-size"], c["patience"]
    label = "popularity" if m == "pop" else f"SASRec + {r['loss']}"
    epochs = "" if m == "pop" else f"{r['best_epoch']} / {r['epochs_run']}"
    per_epoch = "" if m == "pop" else f"{t['epoch_seconds_mean']:.1f}"
    valid = "" if m == "pop" else f"{t['valid_eval_seconds_mean']:.1f}"
    rows.append(f"| {label} | {epochs} | {per_epoch} | {valid} | {t['test_eval_seconds']:.1f} | "
                f"{r['peak_rss_bytes'] / 2**30:.2f} | {r['test']['hit@10']:.4f} | {r['test']['ndcg@10']:.4f} | "
                f"{r['test_other_protocol']['metrics']['ndcg@10']:.4f} | "
                f"{c['device']}, {c['threads']} thread(s) | {s['commit'][:7]}{' (dirty)' if s['dirty'] else ''} |")
print(f"# SASRec over a million-item catalogue, trained to early stop\n")
print("Made by `results/timing/scale/early-stop/scale_early_stop.sh`." + (f" Generated log: {data['users']:,} users, {data['items']:,} items, "
      f"{data['interactions']:,} interactions; hidden 64, max length 20, padded batches of {batch}, patience {patience} on "
      "validation NDCG@20; full ranking over the whole catalogue (leave-one-out, the reference protocol: "
      "history items, an answer the user had before included, scored 0; the strict protocol's "
      "NDCG@10 beside it)." if data else ""))
print("\n| method | best / last epoch | epoch s | validation s | test s | peak RSS GiB | test HIT@10 | test NDCG@10 | NDCG@10, strict | device | seqrec |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
print("\n".join(rows))
PY
cat "$out/$name.md"
echo "done in $(( $(date +%s) - t0 )) s"
