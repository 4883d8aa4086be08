#!/usr/bin/env bash
# tollgate on the shared 23-check benchmark suite; prints the RESULT_JSON line that
# ../shared/bench/summarize.py reads. usage: validate_tollgate.sh FILE (…_1m.parquet, …_10m.csv)
set -u
here=$(cd "$(dirname "$0")" && pwd)
file=$1
bin=${TOLLGATE_BIN:-${CARGO_TARGET_DIR:-/var/tmp/tollgate-target}/release/tollgate}
case "$(basename "$file")" in
  *_10m.*) suite=$here/transactions_10m.yaml ;;
  *_1m.*) suite=$here/transactions_1m.yaml ;;
  *) echo "cannot tell the size of $file" >&2; exit 2 ;;
esac
start=$(date +%s.%N)
json=$("$bin" validate "$file" --suite "$suite" --format json)
rc=$?
end=$(date +%s.%N)
[ "$rc" -le 1 ] || { echo "tollgate exited $rc" >&2; echo "$json" >&2; exit "$rc"; }
py=${PEERS_VENV:-/tmp/tollgate-peers-venv}/bin/python
[ -x "$py" ] || py=python3
START=$start END=$end FILE="$file" "$py" "$here/map_results.py" <<<"$json"
