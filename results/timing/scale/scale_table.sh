#!/usr/bin/env bash
# Makes results/timing/scale/README.md: SASRec+CCE epoch and evaluation times over growing catalogues.
# The scaling table: SASRec+CCE (hidden 64, max length 20, one epoch, one thread) on
# generated logs (seqrec generate, USERS users) over catalogues of ITEMS items, with the whole
# catalogue scored at once (--item-block past V; evaluator blocks of all columns) and in blocks
# of ITEMS/8 columns (loss and evaluator). The catalogue is the items the log shows (column
# "items"), fewer than ITEMS unless USERS is large. Writes results/timing/scale/*.json (each run's result:
# epoch time, evaluation times, peak RSS, config) and README.md there, a table made from them.
# Beauty's rows come beside them. Run: bash results/timing/scale/scale_table.sh   (env: BIN=build
# ITEMS="10000 100000 1000000" USERS=2000 BEAUTY=../shared/data/Beauty.txt, empty for none; runs of
# other USERS already in results/timing/scale/ stay in the table)
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=${BIN:-build}/seqrec
out=results/timing/scale
work=${WORK:-/tmp/seqrec-scale}
users=${USERS:-2000}
mkdir -p "$out" "$work"
# row NAME DATA ITEMS: the whole and the blocked run of one catalogue (ITEMS bounds its size).
row() {
  local name=$1 data=$2 items=$3 mode block
  for mode in whole blocked; do
    # Blocks of an eighth of the generator's catalogue, so even a log that shows only part of
    # it (the dataset keeps the items that occur) is scored in several blocks.
    b=$((items / 8))
    if [[ $mode == whole ]]; then block=(--item-block $((items + 2)) --eval-item-block $((items + 2))); else block=(--item-block $b --eval-item-block $b); fi
    "$bin" train --data "$data" --cache-dir "$work/cache" --epochs 1 --max-len 20 --sasrec.hidden-size 64 --threads 1 \
      "${block[@]}" --progress none --output "$out/$name-$mode.json" > "$out/$name-$mode.log" 2>&1
  done
}
for items in ${ITEMS-10000 100000 1000000}; do
  data=$work/gen-u$users-i$items.inter
  [[ -f $data ]] || "$bin" generate --out "$data" --users "$users" --items "$items" --seed 1 > /dev/null
  row u$users-i$items "$data" "$items"
done
# A real catalogue beside them: Beauty's 12,101 items.
[[ -n ${BEAUTY-../shared/data/Beauty.txt} ]] && row beauty "${BEAUTY-../shared/data/Beauty.txt}" 12101
python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = []
for f in sorted(glob.glob(f"{out}/*.json"), key=lambda f: (json.load(open(f))["dataset"]["items"], f)):
    r = json.load(open(f))
    t = r["timing"]
    rows.append((r["dataset"]["items"], r["dataset"]["users"], os.path.basename(f)[:-5].rsplit("-", 1)[1], r["config"].get("item-block", "0"),
                 t["epoch_seconds_mean"], t["valid_eval_seconds_mean"], t["test_eval_seconds"], r["peak_rss_bytes"] / 2**30,
                 r["test"]["ndcg@10"], r["seqrec"]["commit"][:7] + ("+dirty" if r["seqrec"]["dirty"] else "")))
lines = ["# SASRec+CCE over growing catalogues: whole vs item-blocked scoring", "",
         "Made by `results/timing/scale/scale_table.sh` on the 2-core host while two other runs shared it (timings drift; compare "
         "within a row pair). One epoch, hidden 64, max length 20, one thread; test NDCG@10 after that epoch. "
         "A million items: training steps of 600,000 users' log (an epoch is about 16 CPU-hours) in `steps.md` "
         "(`results/timing/scale/scale_steps.sh`), and trainings to early stop on a log of long histories in "
         "`early-stop/` (`results/timing/scale/early-stop/scale_early_stop.sh`).", "",
         "| items | users | scoring | --item-block | epoch s | validation s | test s | peak RSS GiB | test NDCG@10 | seqrec |",
         "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
for x in rows:
    lines.append("| {:,} | {:,} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {:.4f} | {} |".format(*x))
open(f"{out}/README.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
