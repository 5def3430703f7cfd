#!/usr/bin/env bash
# qvirt bench: qmp-client vs raw QMP, `launcher run` vs raw QEMU (start, boot, memory, shutdown),
# `launcher exec` memory, kvm-probe timings. Always TCG. Prints markdown, writes bench/results/<UTC>.json.
#   ./bench.sh [--quick]     (default: 10 runs each; --quick: 3 runs, fewer QMP commands)
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
exec java -jar bench/target/qvirt-bench.jar "$@"
