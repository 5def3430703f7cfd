#!/usr/bin/env bash
# Every qvirt test: unit tests (Surefire), real-QEMU and real-registry integration tests (Failsafe),
# mock-API Kubernetes tests. On a fresh Debian bookworm machine, as root: installs what is missing,
# builds the test guest (cached under ~/.cache/qvirt), then runs `mvn verify`.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
scripts/install-deps.sh
testdata/build-guest.sh
mvn -B -ntp verify "$@"
echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
