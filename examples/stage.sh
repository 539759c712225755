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
