#!/usr/bin/env bash
# Runs the local end-to-end tests (test/local) of every golden project on a
# busy machine: GOMAXPROCS=1 for every Go process (the tests, the provider,
# kube-apiserver and etcd) beside one busy loop per core, RUNS rounds of
# all projects. Prints one line per run and a summary: runs, failures and
# the slowest test. Usage: hack/loadtest/run.sh [RUNS] [PROJECT...]
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
shift || true
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
	for d in golden/*/; do projects+=("$(basename "$d")"); done
fi
out=$(mktemp -d)
hogs=()
for _ in $(seq "$(nproc)"); do
	(while :; do :; done) &
	hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
for p in "${projects[@]}"; do # compile once, outside the measurement
	(cd "golden/$p" && go test -count=1 -run '^$' ./test/local/ >/dev/null)
done
failures=0 total=0
for r in $(seq "$runs"); do
	for p in "${projects[@]}"; do
		log="$out/$p-$r.log"
		start=$(date +%s)
		(cd "golden/$p" && GOMAXPROCS=1 go test -count=1 -v ./test/local/ >"$log" 2>&1)
		rc=$?
		total=$((total + 1))
		[ $rc -eq 0 ] || failures=$((failures + 1))
		slowest=$(grep -E '^--- (PASS|FAIL)' "$log" | sed -E 's/.*\(([0-9.]+)s\)/\1 &/' | sort -rn | head -1 | cut -d' ' -f2-)
		echo "run $r $p: exit $rc in $(($(date +%s) - start))s; slowest: $slowest"
		[ $rc -eq 0 ] || tail -30 "$log"
	done
done
echo "$total runs, $failures failed; logs in $out"
grep -h -E '^--- (PASS|FAIL)' "$out"/*.log | sed -E 's/.*\(([0-9.]+)s\)/\1 &/' | sort -rn | head -3 | sed 's/^/slowest: /'
