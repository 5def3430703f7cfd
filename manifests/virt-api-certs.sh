#!/usr/bin/env bash
# Certificates for virt-api and the handlers' node API, the documented step after applying the manifests:
#   manifests/virt-api-certs.sh [--dir DIR] [--no-apply]
# Makes (once, kept in DIR, default manifests/target/certs) a CA, then issues:
#   - virt-api's serving certificate (virt-api.kubevirt.svc, .svc.cluster.local), 1 year;
#   - virt-api's client certificate for the node API (CN virt-api), 1 year;
#   - the handlers' serving certificate with every Node's InternalIP as an IP SAN (virt-api verifies the node's
#     address; rerun after adding nodes), 1 year;
# and, unless --no-apply, with kubectl: the Secrets kubevirt/kubevirt-virt-api-certs and
# kubevirt/kubevirt-virt-handler-certs, and the CA as caBundle of the APIServices v1/v1alpha3.subresources.kubevirt.io
# and of every webhook of virt-api-validator and virt-api-mutator. Rerun before expiry to rotate: virt-api and the
# handlers reload the mounted files without a restart. Exit 2 on bad usage, 1 on failure.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
dir="$here/target/certs" apply=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --no-apply) apply=false; shift ;;
    *) echo "usage: $0 [--dir DIR] [--no-apply]" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "virt-api-certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"; chmod 700 "$dir"; cd "$dir"
if [[ ! -s ca.crt || ! -s ca.key ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt -subj /CN=qvirt-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
issue() { # NAME CN EKU SAN
  local name=$1 cn=$2 eku=$3 san=$4
  openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  { echo "basicConstraints=critical,CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"; [[ -z "$san" ]] || echo "subjectAltName=$san"; } > "$name.ext"
  openssl x509 -req -sha256 -days 365 -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
issue virt-api virt-api.kubevirt.svc serverAuth \
  "DNS:virt-api.kubevirt.svc,DNS:virt-api.kubevirt.svc.cluster.local,DNS:virt-api"
issue handler-client virt-api clientAuth ""
ips=""
if $apply; then
  command -v kubectl >/dev/null || { echo "virt-api-certs.sh: kubectl not found (or use --no-apply)" >&2; exit 1; }
  ips=$(kubectl get nodes -o jsonpath='{range .items[*]}{range .status.addresses[?(@.type=="InternalIP")]}IP:{.address},{end}{end}')
fi
issue handler virt-handler "serverAuth,clientAuth" "DNS:virt-handler${ips:+,${ips%,}}"
echo "virt-api-certs.sh: CA and certificates in $dir"
$apply || exit 0

kubectl -n kubevirt create secret generic kubevirt-virt-api-certs --from-file=tls.crt=virt-api.crt \
  --from-file=tls.key=virt-api.key --from-file=handler-client.crt=handler-client.crt \
  --from-file=handler-client.key=handler-client.key --from-file=handler-ca.crt=ca.crt \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n kubevirt create secret generic kubevirt-virt-handler-certs --from-file=tls.crt=handler.crt \
  --from-file=tls.key=handler.key --from-file=ca.crt=ca.crt --dry-run=client -o yaml | kubectl apply -f -
bundle=$(base64 -w0 < ca.crt)
for v in v1 v1alpha3; do
  kubectl patch apiservice "$v.subresources.kubevirt.io" --type=merge -p "{\"spec\":{\"caBundle\":\"$bundle\"}}"
done
for kind in validatingwebhookconfiguration/virt-api-validator mutatingwebhookconfiguration/virt-api-mutator; do
  n=$(kubectl get "$kind" -o jsonpath='{range .webhooks[*]}x{end}' | wc -c)
  ops=""
  for ((i = 0; i < n; i++)); do ops+="${ops:+,}{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$bundle\"}"; done
  kubectl patch "$kind" --type=json -p "[$ops]"
done
echo "virt-api-certs.sh: Secrets applied, caBundle set on the APIServices and webhooks"
