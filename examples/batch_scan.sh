#!/usr/bin/env bash
# Scan several evidence items one after another, the way a lab runs triage from a script.
#
#   examples/batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...
#   examples/batch_scan.sh /tmp/cases examples/known-hashes.csv examples/evidence/case1.dd examples/evidence/case2
#
# Each evidence item gets its own case folder OUT_ROOT/<n>-<name>. triage's exit code says what
# happened: 0 no match, 1 matches found, 2 error (bad evidence or hash set), 130 interrupted.
# File names are passed as arguments (never through eval or a re-parsed string), so names with
# spaces, shell characters or a leading '-' are safe ('--' ends the options).
set -u
out_root=${1:?usage: batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...}
known=${2:?usage: batch_scan.sh OUT_ROOT KNOWN_SET EVIDENCE...}
shift 2
mkdir -p -- "$out_root"
n=0 matched=0 failed=0
for evidence in "$@"; do
    n=$((n + 1))
    name=$(basename -- "$evidence")
    case_dir="$out_root/$n-${name//[^A-Za-z0-9._-]/_}"
    triage scan --hashset "$known" --out "$case_dir" \
        --case-number "BATCH-$(date -u +%Y%m%d)-$n" --examiner "${EXAMINER:-lab batch}" \
        --evidence-id "EV$n" --quiet -- "$evidence"
    status=$?
    case $status in
        0) echo "EV$n $evidence: no match ($case_dir)" ;;
        1) echo "EV$n $evidence: MATCHES ($case_dir/report.html)"; matched=$((matched + 1)) ;;
        130) echo "interrupted at EV$n $evidence" >&2; exit 130 ;;
        *) echo "EV$n $evidence: FAILED (exit $status)" >&2; failed=$((failed + 1)) ;;
    esac
done
echo "$n evidence items: $matched with matches, $failed failed"
[ "$failed" -eq 0 ] || exit 2
[ "$matched" -eq 0 ] || exit 1
exit 0
