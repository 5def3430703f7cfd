#!/usr/bin/env bash
# A local OCI registry (Debian's docker-registry) holding the test guest's images, no Docker engine.
#
#   testdata/registry.sh start [--port N] [--dir DIR] [--htpasswd FILE]
#       starts a registry on 127.0.0.1:N (default 5000) storing under DIR (default ~/.cache/qvirt/registry),
#       writes DIR/registry.pid, DIR/registry.log, DIR/config.yml; waits until /v2/ answers.
#       With --htpasswd FILE (bcrypt htpasswd), it asks for basic auth.
#   testdata/registry.sh push [--port N] [--creds USER:PASS]
#       copies the guest's OCI layout (testdata/build/guest/oci) into it with skopeo:
#       127.0.0.1:N/qvirt/guest:latest (containerDisk) and 127.0.0.1:N/qvirt/kernel:latest (kernelBoot).
#   testdata/registry.sh stop [--dir DIR]
#   testdata/registry.sh status [--dir DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; shift || true
port=5000
dir=${QVIRT_CACHE:-$HOME/.cache/qvirt}/registry
htpasswd=""
creds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --htpasswd) htpasswd=$2; shift 2 ;;
    --creds) creds=$2; shift 2 ;;
    *) echo "registry.sh: unknown argument '$1' (allowed: --port N, --dir DIR, --htpasswd FILE, --creds USER:PASS)" >&2; exit 2 ;;
  esac
done

running() { [ -f "$dir/registry.pid" ] && kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; }

case "$cmd" in
  start)
    if running; then echo "registry already running (pid $(cat "$dir/registry.pid"))"; exit 0; fi
    mkdir -p "$dir/storage"
    {
      echo "version: 0.1"
      echo "log: {level: info, accesslog: {disabled: false}}"
      echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
      echo "http: {addr: 127.0.0.1:$port, secret: qvirt-local-test-registry}"
      if [ -n "$htpasswd" ]; then
        echo "auth: {htpasswd: {realm: qvirt, path: $htpasswd}}"
      fi
    } > "$dir/config.yml"
    setsid docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 < /dev/null &
    echo $! > "$dir/registry.pid"
    for _ in $(seq 1 100); do
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
      if [ "$code" = 200 ] || [ "$code" = 401 ]; then
        echo "registry on 127.0.0.1:$port (pid $(cat "$dir/registry.pid"), storage $dir/storage)"; exit 0
      fi
      running || break
      sleep 0.1
    done
    echo "registry did not start; its log:" >&2; cat "$dir/registry.log" >&2; exit 1
    ;;
  push)
    oci=$here/build/guest/oci
    [ -d "$oci" ] || { echo "no guest image at $oci: run testdata/build-guest.sh" >&2; exit 1; }
    auth=()
    [ -n "$creds" ] && auth=(--dest-creds "$creds")
    for img in guest kernel; do
      skopeo copy --quiet --dest-tls-verify=false "${auth[@]}" "oci:$oci:$img" "docker://127.0.0.1:$port/qvirt/$img:latest"
      echo "pushed 127.0.0.1:$port/qvirt/$img:latest"
    done
    ;;
  stop)
    if running; then
      pid=$(cat "$dir/registry.pid"); kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "registry stopped"
    fi
    rm -f "$dir/registry.pid"
    ;;
  status)
    if running; then echo "running (pid $(cat "$dir/registry.pid"))"; else echo "not running"; exit 1; fi
    ;;
  *)
    echo "usage: registry.sh start|push|stop|status [--port N] [--dir DIR] [--htpasswd FILE] [--creds USER:PASS]" >&2; exit 2 ;;
esac
