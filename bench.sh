#!/usr/bin/env bash
# qvirt bench: qvirt (`launcher run`, `launcher exec`) vs raw QEMU vs libvirt, side by side, interleaved, TCG for
# all: start, boot, QMP latency, memory, density, shutdown (see bench/README.md). Installs and starts libvirt by hand
# (scripts/bench-libvirt.sh; stopped at the end); without it the other contenders still run.
# Prints a markdown table, writes bench/results/<UTC>.{json,md,png}.
#   ./bench.sh [--quick] [--runs N] [--all]   (default: n=10, density n=3 at once and staggered, then the
#   controller's 1000-VM benchmark against fabric8's CRUD mock API: ~25 min; --quick: n=3, density n=1 with 3
#   guests, no controller benchmark; --all: the controller benchmark after --quick or --only too)
#   A full run includes scenario 8, live migration on one machine (floor, qvirt, libvirt; --migration-runs N,
#   default 5; ~10 min); --quick leaves it out; ./bench.sh --only migration runs it alone.
#   ./bench.sh --cluster [N]   only the cluster path on the rig (bin/qvirt-sandbox: fabric8's CRUD mock API, FAKE
#   node agents, the real controller, handlers and QEMU): VM -> VMI Running -> booted, QMP event -> VMI status,
#   10 VMs at once, the handlers' RSS and CPU (~5 min)
#   ./bench.sh --virt-api [N]   virt-api on the rig: webhook admission and subresource start latency (N each,
#   default 300), start/stop cycles, console echo latency and output throughput via console.sock, the handler and
#   virt-api (~4 min)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
scripts/install-deps.sh
testdata/build-guest.sh
jars=(bench/target/qvirt-bench.jar launcher/target/qvirt-launcher.jar kvm-probe/target/qvirt-kvm-probe.jar
      virtctl/target/qvirt-virtctl.jar)
for j in "${jars[@]}"; do
  if [[ ! -f "$j" ]]; then
    echo "bench: building (missing $j)" >&2
    lock=(); command -v flock >/dev/null && lock=(flock /tmp/qvirt-mvn.lock)
    "${lock[@]}" mvn -B -ntp -q -pl bench,virtctl -am package -DskipTests
    break
  fi
done
if [[ "${1:-}" == --cluster || "${1:-}" == --virt-api ]]; then
  main=io.qvirt.sandbox.ClusterBench n=${2:-10}
  if [[ "$1" == --virt-api ]]; then main=io.qvirt.sandbox.VirtApiBench n=${2:-300}; fi
  lock=(); command -v flock >/dev/null && lock=(flock /tmp/qvirt-mvn.lock)
  "${lock[@]}" mvn -B -ntp -q -pl launcher,handler,controller,apiserver,virtctl,sandbox -am package -DskipTests >&2
  cp_file=sandbox/target/bench.classpath
  "${lock[@]}" mvn -B -ntp -q -pl sandbox test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" -DskipTests >&2
  testdata/registry.sh start >&2
  exec java -Dqvirt.root="$PWD" -cp "sandbox/target/test-classes:sandbox/target/classes:$(cat "$cp_file")" \
    "$main" "$n"
fi
# The controller's figures (issue 21's requests and CPU per VM) belong to a full run; --quick and --only leave
# them out unless --all asks.
all=true args=()
for a in "$@"; do case "$a" in --quick|--only) all=false ;; esac; done
for a in "$@"; do if [[ "$a" == --all ]]; then all=true; else args+=("$a"); fi; done
mkdir -p bench/results
if ! $all; then
  exec java -Djava.awt.headless=true -jar bench/target/qvirt-bench.jar "${args[@]}"
fi
java -Djava.awt.headless=true -jar bench/target/qvirt-bench.jar "${args[@]}"
# The controller benchmark lives in the controller's test tree (it needs the mock API server): compile it and
# run it on its test classpath.
cp_file=controller/target/bench.classpath
lock=(); command -v flock >/dev/null && lock=(flock /tmp/qvirt-mvn.lock)
"${lock[@]}" mvn -B -ntp -q -pl controller -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" -DskipTests >&2
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-controller.txt
# qvirt.root: where the bench finds testdata/vm.yaml (surefire sets it for the tests). The mock API server's
# and fabric8's logs go to a file beside the figures.
java -Xmx2g -Dqvirt.root="$PWD" -cp "controller/target/test-classes:controller/target/classes:$(cat "$cp_file")" \
  io.qvirt.controller.bench.ControllerBench 1000 4 8 300 2>"${out%.txt}.log" | tee "$out"
[[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "bench: controller benchmark failed, see ${out%.txt}.log" >&2; exit 1; }
echo "Written: $out"
