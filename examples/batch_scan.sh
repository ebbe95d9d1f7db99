#!/usr/bin/env bash
# Scan several evidence items, the way a lab runs triage from a script.
#
#   examples/batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...
#   examples/batch_scan.sh /tmp/cases examples/known-hashes.csv examples/evidence/case1.dd examples/evidence/case2
#
# Every run makes a fresh folder OUT_ROOT/<run> (<run> is the UTC time and this script's process
# id), so the script can run again with the same OUT_ROOT: triage never writes over a case. Each
# evidence item gets its own case folder OUT_ROOT/<run>/<n>-<name> and a case number unique to the
# run, BATCH-<run>-<n>. triage's exit code says what happened: 0 no match, 1 matches found,
# 2 error (bad evidence or hash set, cluster lost), 4 no files found at all (an empty or unmounted
# folder: nothing was compared, which is NOT "no match"), 130 interrupted. File names are passed as arguments (never through eval or a re-parsed string), so
# names with spaces, shell characters or a leading '-' are safe ('--' ends the options).
#
# Cluster variant: with TRIAGE_CLUSTER set (tls://scheduler:8786, started with `dask scheduler`
# and `dask worker` on machines that mount the evidence read-only at the same path), the items are
# scanned TRIAGE_PARALLEL at a time (default 4), all sharing the one cluster; TLS files come from
# TRIAGE_CLUSTER_CA, TRIAGE_CLUSTER_CERT and TRIAGE_CLUSTER_KEY. A scan whose cluster went away
# (exit 2) continues with: triage scan --resume CASE_DIR --cluster "$TRIAGE_CLUSTER" ...
#
#   TRIAGE_CLUSTER=tls://10.0.0.5:8786 TRIAGE_CLUSTER_CA=ca.pem TRIAGE_CLUSTER_CERT=lab.pem \
#   TRIAGE_CLUSTER_KEY=lab.key examples/batch_scan.sh /cases known.csv /mnt/evidence/*.E01
set -u
out_root=${1:?usage: batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...}
known=${2:?usage: batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...}
shift 2
run="$(date -u +%Y%m%dT%H%M%SZ)-$$"
run_dir="$out_root/$run"
mkdir -p -- "$run_dir" || exit 2
cluster=()
parallel=1
if [ -n "${TRIAGE_CLUSTER:-}" ]; then
    cluster=(--cluster "$TRIAGE_CLUSTER")
    [ -n "${TRIAGE_CLUSTER_CA:-}" ] && cluster+=(--cluster-ca "$TRIAGE_CLUSTER_CA")
    [ -n "${TRIAGE_CLUSTER_CERT:-}" ] && cluster+=(--cluster-cert "$TRIAGE_CLUSTER_CERT")
    [ -n "${TRIAGE_CLUSTER_KEY:-}" ] && cluster+=(--cluster-key "$TRIAGE_CLUSTER_KEY")
    parallel=${TRIAGE_PARALLEL:-4}
fi
n=0 matched=0 failed=0 empty=0
pids=() labels=() dirs=()

report() {  # wait for the scans started so far and say how each ended
    local i status
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"
        status=$?
        case $status in
            0) echo "${labels[$i]}: no match (${dirs[$i]})" ;;
            1) echo "${labels[$i]}: MATCHES (${dirs[$i]}/report.html)"; matched=$((matched + 1)) ;;
            4) echo "${labels[$i]}: NO FILES FOUND, nothing compared (not mounted?) (${dirs[$i]})" >&2
               empty=$((empty + 1)) ;;
            130) echo "interrupted at ${labels[$i]} (continue: triage scan --resume ${dirs[$i]})" >&2
                 exit 130 ;;
            *) echo "${labels[$i]}: FAILED (exit $status)" >&2; failed=$((failed + 1)) ;;
        esac
    done
    pids=() labels=() dirs=()
}

for evidence in "$@"; do
    n=$((n + 1))
    name=$(basename -- "$evidence")
    case_dir="$run_dir/$n-${name//[^A-Za-z0-9._-]/_}"
    triage scan --hashset "$known" --out "$case_dir" \
        --case-number "BATCH-$run-$n" --examiner "${EXAMINER:-lab batch}" \
        --evidence-id "EV$n" --quiet "${cluster[@]}" -- "$evidence" &
    pids+=("$!") labels+=("EV$n $evidence") dirs+=("$case_dir")
    [ "${#pids[@]}" -ge "$parallel" ] && report
done
report
echo "$n evidence items in $run_dir: $matched with matches, $empty with no files, $failed failed"
[ "$failed" -eq 0 ] || exit 2
[ "$empty" -eq 0 ] || exit 4
[ "$matched" -eq 0 ] || exit 1
exit 0
