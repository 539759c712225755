# Sourced by the example scripts: `stage NAME DONE_PATH COMMAND…` runs COMMAND unless DONE_PATH exists (so a killed
# script skips what it finished when run again), and prints the stage's wall and CPU time.
TIMEFORMAT='  %R s wall, %U s user + %S s sys CPU'

stage() {
  local name=$1 done=$2
  shift 2
  if [ -e "$done" ]; then
    echo "== $name: skipped, $done exists"
    return
  fi
  echo "== $name"
  time "$@"
}

# `sample_rows N IN OUT`: a seeded random sample of N lines of IN, the same every run: each line keyed by a seeded random
# number, sorted, the first N kept (awk reads to the end, so no stage of the pipe is cut short under pipefail).
sample_rows() {
  local n=$1 in=$2 out=$3
  awk 'BEGIN { srand(1) } { printf "%.12f\t%s\n", rand(), $0 }' "$in" | sort -k1,1 \
    | awk -v n="$n" 'NR <= n' | cut -f2- > "$out.part"
  mv "$out.part" "$out"
}
