#!/usr/bin/env bash
# Installs llm-parity as a user would (README "Install") and uses it outside this repository:
#   cargo install --locked --path . --root <temporary root>
# then, from an empty temporary directory and with nothing but the installed binary:
#   - every built-in suite against the built-in endpoint: every case passes (opt-in ones skip),
#     with CI=true too (the shipped snapshots are found: in CI a missing one fails);
#   - `init`, `validate`, and a run of the project's own suite beside the built-in ones;
#   - `list checks | head -1` ends with exit 0 (a closed pipe is not a crash);
#   - the binary is stripped (about 17 MB, not ~108 MB).
# Called by scripts/test.sh. The build shares the target directory (CARGO_TARGET_DIR, else
# ./target), so it is incremental after the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target_dir=${CARGO_TARGET_DIR:-$repo/target}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
work=$tmp/work
mkdir -p "$work"

say() { printf 'install-test: %s\n' "$*"; }
fail() { printf 'install-test: FAILED: %s\n' "$*" >&2; exit 1; }

say "cargo install --locked --path . --root $root"
cargo install --quiet --locked --path . --root "$root" --target-dir "$target_dir"
bin=$root/bin/llm-parity
[[ -x $bin ]] || fail "no binary at $bin"
size=$(stat -c %s "$bin")
say "installed $bin ($((size / 1024 / 1024)) MB)"
# Stripped: no symbol table left (an unstripped build with line tables is ~108 MB). GNU nm
# exits 0 either way; on a stripped binary it says "no symbols" on stderr.
if command -v nm >/dev/null 2>&1 && ! nm "$bin" 2>&1 >/dev/null | grep -q 'no symbols'; then
  fail "the release binary has a symbol table (expected strip = true in [profile.release])"
fi
(( size < 60 * 1024 * 1024 )) || fail "the release binary is $size bytes (expected a stripped one, about 17 MB)"

# The installed binary, as a user's shell runs it: no OPENAI_* variables, from $work.
lp() { (cd "$work" && env -u OPENAI_BASE_URL -u OPENAI_API_KEY -u OPENAI_MODEL "$bin" "$@"); }

# Every result of a report.json is pass, or skip (opt-in cases). Each suite named after the
# report must pass every case that `llm-parity list cases` lists for it (run in the same
# directory as the run), opt-in ones aside: the expected cases come from the binary, so adding a
# case changes nothing here, and a case that does not pass (or does not run) fails.
check_report() {
  local report=$1
  shift
  lp list cases >"$tmp/cases.txt" || fail "list cases exited $?"
  python3 - "$report" "$tmp/cases.txt" "$@" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
results = report["results"]
bad = [f"{r['suite']}/{r['case']}: {r['outcome']} {r.get('reason') or ''}"
       for r in results if r["outcome"] not in ("pass", "skip")]
if bad:
    sys.exit("install-test: FAILED: not every case passed:\n  " + "\n  ".join(bad))
# `list cases`: `suite/case  feature [tag, tag]`, one case a line.
listed = []
for line in open(sys.argv[2]):
    if not line.strip():
        continue
    full = line.split()[0]
    tags = line[line.rindex("[") + 1:line.rindex("]")].split(", ") if line.rstrip().endswith("]") else []
    listed.append((full, tags))
for suite in sys.argv[3:]:
    want = {full for full, tags in listed if full.split("/", 1)[0] == suite and "opt-in" not in tags}
    if not want:
        sys.exit(f"install-test: FAILED: `list cases` lists no case of suite {suite}")
    passed = {f"{r['suite']}/{r['case']}" for r in results if r["outcome"] == "pass"}
    missing = sorted(want - passed)
    if missing:
        sys.exit(f"install-test: FAILED: {len(missing)} of the {len(want)} listed cases of suite {suite} did not pass: " + ", ".join(missing))
    print(f"install-test: suite {suite}: every one of its {len(want)} listed cases passed")
suites = sorted({r["suite"] for r in results})
print(f"install-test: {len(results)} results of {len(suites)} suites, every one pass or skip")
PY
}

say "llm-parity --version: $(lp --version)"
say "run: every built-in suite against the built-in endpoint, from an empty directory"
lp run --no-progress --report-dir "$tmp/reports/plain" >/dev/null || fail "run exited $?"
check_report "$tmp/reports/plain/report.json" chat
say "the same with CI=true"
CI=true lp run --no-progress --report-dir "$tmp/reports/ci" >/dev/null || fail "CI=true run exited $?"
check_report "$tmp/reports/ci/report.json"
[[ -z "$(ls -A "$work")" ]] || fail "a run wrote into the current directory: $(ls -A "$work")"

say "init, validate, and a run of the project's suite beside the built-in ones"
lp init --action acme/llm-parity@v1 >/dev/null
for f in targets.yaml suites/my-app.yaml .github/workflows/llm-parity.yml; do
  [[ -f $work/$f ]] || fail "init did not write $f"
done
lp validate || fail "validate of the scaffolded project exited $?"
CI=true lp run --no-progress --report-dir "$tmp/reports/project" >/dev/null || fail "the project run exited $?"
check_report "$tmp/reports/project/report.json" my-app chat

say "list checks | head -1"
set +o pipefail
lp list checks | head -1 >/dev/null
code=${PIPESTATUS[0]}
set -o pipefail
[[ $code -eq 0 ]] || fail "list checks | head -1: llm-parity exited $code"
say "ok"
