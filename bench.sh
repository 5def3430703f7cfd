#!/usr/bin/env bash
# qvirt bench: qvirt (`launcher run`, `launcher exec`) vs raw QEMU vs libvirt, side by side, interleaved, TCG for
# all: start, boot, QMP latency, memory, density, shutdown (see bench/README.md). Installs and starts libvirt by hand
# (scripts/bench-libvirt.sh; stopped at the end); without it the other contenders still run.
# Prints a markdown table, writes bench/results/<UTC>.{json,md,png}.
#   ./bench.sh [--quick] [--runs N]   (default: n=10, density n=3, ~15 min; --quick: n=3, density n=1 with 3 guests)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
scripts/install-deps.sh
testdata/build-guest.sh
jars=(bench/target/qvirt-bench.jar launcher/target/qvirt-launcher.jar kvm-probe/target/qvirt-kvm-probe.jar)
for j in "${jars[@]}"; do
  if [[ ! -f "$j" ]]; then
    echo "bench: building (missing $j)" >&2
    lock=(); command -v flock >/dev/null && lock=(flock /tmp/qvirt-mvn.lock)
    "${lock[@]}" mvn -B -ntp -q -pl bench -am package -DskipTests
    break
  fi
done
mkdir -p bench/results
exec java -Djava.awt.headless=true -jar bench/target/qvirt-bench.jar "$@"
