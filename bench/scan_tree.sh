#!/usr/bin/env bash
# bench/run's scan_tree section (sourced by bench/run; uses its helpers), also
# runnable alone: bench/scan_tree.sh [BUILD_DIR] [SIZE_MB].
#
#   coffer scan over a generated 100 MB tree of source-like files (Python, Go,
#   JS, YAML, .env, JSON, Markdown; long lines, base64 blobs, hex digests,
#   UUIDs, a few planted secrets), page cache warm, best of 3 runs, all
#   threads (one per core)                                     goal < 10 s

# Writes the tree: bench_scan_tree_generate DIR MB. Deterministic (seed 8).
bench_scan_tree_generate() {
  python3 - "$1" "$2" <<'PY'
import base64, os, random, sys, uuid, hashlib
root, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(8)
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua request handler server client config "
         "value token password secret user session cache return import const def func").split()
def rs(alpha, n): return "".join(rnd.choice(alpha) for _ in range(n))
AL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
def line():
    k = rnd.random()
    if k < 0.55: return "    " + " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 14)))
    if k < 0.65: return "    id = \"%s\"" % uuid.UUID(int=rnd.getrandbits(128))
    if k < 0.72: return "    checksum = \"%s\"" % hashlib.sha256(rs(AL, 8).encode()).hexdigest()
    if k < 0.78: return "    if password == expected_password: return session.token"
    if k < 0.85: return "    %s = config.get(\"%s\")" % (rnd.choice(words), rnd.choice(words))
    if k < 0.90: return base64.b64encode(rnd.randbytes(57)).decode()
    return "# " + " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 20)))
pool = [line() for _ in range(20000)]
secrets = ["token = 'ghp_%s'" % rs(AL, 36), "AWS_KEY=AKIA%s" % rs("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
           "DB_PASSWORD=%s!%s" % (rs(AL, 10), rs(AL, 6)), "key: AIza%s" % rs(AL + "-_", 35)]
exts = [".py", ".go", ".js", ".yaml", ".env", ".json", ".md", ".txt"]
target, written, n = mb * 1024 * 1024, 0, 0
while written < target:
    d = os.path.join(root, "pkg%02d" % (n % 40), "sub%d" % (n % 7))
    os.makedirs(d, exist_ok=True)
    lines = [rnd.choice(pool) for _ in range(rnd.randint(200, 1400))]
    if n % 50 == 0: lines.insert(rnd.randrange(len(lines)), rnd.choice(secrets))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(d, "file%05d%s" % (n, rnd.choice(exts))), "w") as f: f.write(text)
    written += len(text); n += 1
print(n, written)
PY
}

bench_scan_tree() {
  local dir="$WORK/scan-tree" mb="${SCAN_TREE_MB:-100}" best="" t i files bytes
  [ -x "$COFFER" ] || die "no coffer binary at $COFFER (cmake --build $BUILD_DIR --target coffer)"
  log "scan_tree: generating a ${mb} MB tree"
  read -r files bytes < <(bench_scan_tree_generate "$dir" "$mb")
  for i in 1 2 3; do
    t="$(python3 - "$COFFER" "$dir" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
r = subprocess.run([sys.argv[1], "scan", "--format", "json", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if r.returncode not in (0, 1): sys.exit("coffer scan failed: %d" % r.returncode)
print(f"{time.monotonic() - t0:.2f}")
PY
)" || die "coffer scan failed"
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$t" "$best"; then
      best="$t"
    fi
  done
  add_row "scan_tree" "coffer scan, ${files} files / $((bytes / 1048576)) MB, seconds (best of 3, $(nproc) cores)" \
    "$best" "" "" "< 10 s: $(verdict "$best" '<=' 10)"
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # run alone
  set -euo pipefail
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  BUILD_DIR="${1:-${COFFER_BUILD_DIR:-build}}"
  case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
  COFFER="$BUILD_DIR/coffer"
  SCAN_TREE_MB="${2:-100}"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/coffer-scan-bench.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  ROWS=()
  log() { echo "[bench] $*" >&2; }
  die() { echo "bench/scan_tree.sh: $*" >&2; exit 1; }
  add_row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
  verdict() { python3 -c "import sys,operator as o; v,op,t=float(sys.argv[1]),sys.argv[2],float(sys.argv[3]); print('met' if {'>=':o.ge,'<=':o.le}[op](v,t) else 'MISSED')" "$1" "$2" "$3"; }
  bench_scan_tree
  printf '%s\n' "${ROWS[@]}"
fi
