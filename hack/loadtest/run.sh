#!/usr/bin/env bash
# Runs the local end-to-end tests (test/local) of every golden project on a
# busy machine: GOMAXPROCS=1 for every Go process (the tests, the provider,
# kube-apiserver and etcd) beside one busy loop per core, RUNS rounds of
# all projects, PARALLEL projects at a time (default 1). Prints one line
# per run and a summary: runs, failures and the slowest tests.
# Usage: [PARALLEL=n] hack/loadtest/run.sh [RUNS] [PROJECT...]
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
shift || true
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
	for d in golden/*/; do projects+=("$(basename "$d")"); done
fi
out=$(mktemp -d)
for p in "${projects[@]}"; do # compile once, outside the measurement
	(cd "golden/$p" && go test -count=1 -run '^$' ./test/local/ >/dev/null)
done
hogs=()
for _ in $(seq "$(nproc)"); do
	(while :; do :; done) &
	hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT

# one runs the local tests of project $1 in round $2 and prints one line.
one() {
	local p=$1 r=$2 log="$out/$1-$2.log" start rc slowest
	start=$(date +%s)
	(cd "golden/$p" && GOMAXPROCS=1 go test -count=1 -v ./test/local/ >"$log" 2>&1)
	rc=$?
	slowest=$(grep -E '^--- (PASS|FAIL)' "$log" | sed -E 's/.*\(([0-9.]+)s\)/\1 &/' | sort -rn | head -1 | cut -d' ' -f2-)
	echo "run $r $p: exit $rc in $(($(date +%s) - start))s; slowest: $slowest"
	[ $rc -eq 0 ] || tail -30 "$log"
}
export -f one
export out
for r in $(seq "$runs"); do
	printf '%s\n' "${projects[@]}" | xargs -P "${PARALLEL:-1}" -I{} bash -c "one {} $r"
done
total=$(ls "$out"/*.log | wc -l)
failed=$(grep -L -E '^ok ' "$out"/*.log | wc -l)
echo "$total runs, $failed failed; logs in $out"
grep -h -E '^--- (PASS|FAIL)' "$out"/*.log | sed -E 's/.*\(([0-9.]+)s\)/\1 &/' | sort -rn | head -3 | sed 's/^/slowest: /'
