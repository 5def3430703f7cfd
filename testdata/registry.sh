#!/usr/bin/env bash
# A local OCI registry (Debian's docker-registry) holding the test guest's images, no Docker engine.
#
#   testdata/registry.sh start [--port N] [--dir DIR] [--htpasswd FILE | --token-realm URL --token-certs FILE]
#                              [--redirect-blobs URL]
#       starts a registry on 127.0.0.1:N (default 5000) storing under DIR (default ~/.cache/qvirt/registry),
#       writes DIR/registry.pid, DIR/registry.log, DIR/config.yml; waits until /v2/ answers.
#       With --htpasswd FILE (bcrypt htpasswd), it asks for basic auth.
#       With --token-realm URL, it asks for a Bearer token from URL (service "qvirt-registry", issuer
#       "qvirt-token-issuer"; tokens signed by a key whose certificate is in --token-certs FILE, PEM).
#       With --redirect-blobs URL, blob GETs answer 307 to URL's scheme://host plus the blob's path in the
#       storage directory (distribution's "redirect" storage middleware: what a CDN-backed registry does).
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
token_realm=""
token_certs=""
redirect_blobs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --htpasswd) htpasswd=$2; shift 2 ;;
    --creds) creds=$2; shift 2 ;;
    --token-realm) token_realm=$2; shift 2 ;;
    --token-certs) token_certs=$2; shift 2 ;;
    --redirect-blobs) redirect_blobs=$2; shift 2 ;;
    *) echo "registry.sh: unknown argument '$1' (allowed: --port N, --dir DIR, --htpasswd FILE, --creds USER:PASS," \
         "--token-realm URL, --token-certs FILE, --redirect-blobs URL)" >&2; exit 2 ;;
  esac
done
if [ -n "$token_realm$token_certs" ] && { [ -z "$token_realm" ] || [ -z "$token_certs" ]; }; then
  echo "registry.sh: --token-realm and --token-certs go together (the realm URL and the PEM certificates its tokens are signed with)" >&2; exit 2
fi
if [ -n "$token_realm" ] && [ -n "$htpasswd" ]; then
  echo "registry.sh: --htpasswd and --token-realm exclude each other (one auth: basic or token)" >&2; exit 2
fi
for url in "$token_realm" "$redirect_blobs"; do
  case "$url" in ""|http://?*|https://?*) ;; *) echo "registry.sh: '$url' is not allowed: an http:// or https:// URL" >&2; exit 2 ;; esac
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
      if [ -n "$token_realm" ]; then
        echo "auth: {token: {realm: \"$token_realm\", service: qvirt-registry, issuer: qvirt-token-issuer, rootcertbundle: $token_certs}}"
      fi
      if [ -n "$redirect_blobs" ]; then
        echo "middleware: {storage: [{name: redirect, options: {baseurl: \"$redirect_blobs\"}}]}"
      fi
    } > "$dir/config.yml"
    # The registry outlives this script: it keeps none of the caller's descriptors beyond 0-2 (a build lock held
    # with flock(1) by whoever ran this would otherwise stay held for as long as the registry runs).
    (
      for fd in /proc/$BASHPID/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done
      exec setsid docker-registry serve "$dir/config.yml"
    ) > "$dir/registry.log" 2>&1 < /dev/null &
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
    echo "usage: registry.sh start|push|stop|status [--port N] [--dir DIR] [--htpasswd FILE] [--creds USER:PASS]" \
      "[--token-realm URL --token-certs FILE] [--redirect-blobs URL]" >&2; exit 2 ;;
esac
