#!/usr/bin/env bash
# Two training epochs of each Beauty method on one thread, to compare two builds number for
# number: a change that should alter no computation must leave every epoch's loss, every
# validation and the test metrics as they were.
#   scripts/two_epoch_check.sh run BUILD_DIR OUT_DIR [METHOD ...]   (resumes: finished methods are skipped)
#   scripts/two_epoch_check.sh compare OUT_DIR_A OUT_DIR_B           (exit 1 on any difference)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
run)
  bin=$2 out=$3
  shift 3
  methods=${*:-sasrec-cce sasrec-bce sasrec-atsrec sasrec-genni bert4rec gru4rec-cce caser fmlprec bsarec elecrec \
    cl4srec iclrec coserec duorec s3rec-finetune}
  mkdir -p "$out"
  for m in $methods; do
    [ -e "$out/$m.json" ] && continue
    echo "$(date +%T) $m"
    LD_LIBRARY_PATH=$bin "$bin/seqrec" train --config "configs/Beauty-$m.ini" --epochs 2 --patience 2 --threads 1 \
      --progress none --output "$out/$m.json" >"$out/$m.log" 2>&1 || echo "$m failed: see $out/$m.log"
  done
  ;;
compare)
  /usr/bin/python3 - "$2" "$3" <<'PY'
import json, os, sys
a, b = sys.argv[1], sys.argv[2]
bad = 0
for name in sorted(f for f in os.listdir(a) if f.endswith(".json")):
    if not os.path.exists(os.path.join(b, name)):
        print(f"{name}: only in {a}"); bad += 1; continue
    x, y = (json.load(open(os.path.join(d, name))) for d in (a, b))
    fields = lambda r: {"curve": [{k: v for k, v in e.items() if "seconds" not in k} for e in r["curve"]],
                        "test": r["test"], "config_hash": r["config_hash"]}
    same = fields(x) == fields(y)
    bad += not same
    losses = " ".join(f"{e['loss']:.6f}" for e in x["curve"])
    print(f"{name[:-5]:16} {'same' if same else 'DIFFERENT'}  losses {losses}  test ndcg@10 {x['test']['ndcg@10']}")
sys.exit(1 if bad else 0)
PY
  ;;
*) echo "usage: $0 run BUILD_DIR OUT_DIR [METHOD ...] | compare OUT_A OUT_B" >&2; exit 2 ;;
esac
