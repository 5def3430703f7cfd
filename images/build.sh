#!/usr/bin/env bash
# Builds qvirt's container images without a Docker engine: each rootfs is assembled from this machine's
# Debian files (a jlink'd Java runtime, the built jars, and for the launcher QEMU with exactly the shared
# libraries `ldd` names, its TCG module and firmware), then made an OCI image with umoci and, if asked,
# pushed with skopeo.
#
#   images/build.sh [--tag TAG] [--out DIR] [--push REGISTRY] [--insecure] [IMAGE ...]
#
# IMAGE: virt-launcher, virt-controller, virt-handler, virt-api, virt-operator (default: every one whose jar is built; virt-handler
# needs handler/target/qvirt-handler.jar). Writes one OCI layout per image, DIR/IMAGE (default DIR
# images/target), with the ref TAG (default 0.1.0). --push REGISTRY copies each to
# docker://REGISTRY/IMAGE:TAG (--insecure: plain HTTP, no TLS check). Build the jars first:
# `mvn -B -pl launcher,controller,handler,apiserver,operator -am package -DskipTests`. Exit 0 ok, 1 failure, 2 bad usage.
#
# Every image: uid/gid 107 (KubeVirt's qemu user; virt-handler runs as root) in /etc/passwd and /etc/group, a static busybox as
# /bin/busybox with its applets as links (sh, cp, ln, sleep, install, ...: the launcher pod's init and
# disk containers run it), /tmp 1777, no package manager, no shell beyond busybox.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/.." && pwd)"

usage() { echo "usage: $0 [--tag TAG] [--out DIR] [--push REGISTRY] [--insecure] [virt-launcher|virt-controller|virt-handler|virt-api|virt-operator ...]" >&2; exit 2; }
tag=0.1.0 out="$here/target" push="" insecure=false images=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) [[ $# -ge 2 ]] || usage; tag=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift 2 ;;
    --push) [[ $# -ge 2 ]] || usage; push=$2; shift 2 ;;
    --insecure) insecure=true; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    virt-launcher|virt-controller|virt-handler|virt-api|virt-operator) images+=("$1"); shift ;;
    *) echo "build.sh: unknown argument '$1' (allowed: --tag, --out, --push, --insecure, virt-launcher, virt-controller, virt-handler, virt-api, virt-operator)" >&2; exit 2 ;;
  esac
done
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "build.sh: invalid --tag '$tag' (an OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})" >&2; exit 2; }
for tool in umoci jar jlink jdeps ldd busybox; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found (scripts/install-deps.sh installs what is needed)" >&2; exit 1; }
done
[[ -z "$push" ]] || command -v skopeo >/dev/null || { echo "build.sh: skopeo not found, needed for --push" >&2; exit 1; }

jar_of() { case "$1" in virt-launcher) echo "$root/launcher/target/qvirt-launcher.jar" ;;
                        virt-controller) echo "$root/controller/target/qvirt-controller.jar" ;;
                        virt-handler) echo "$root/handler/target/qvirt-handler.jar" ;;
                        virt-api) echo "$root/apiserver/target/qvirt-apiserver.jar" ;;
                        virt-operator) echo "$root/operator/target/qvirt-operator.jar" ;; esac; }
# Built = the jar exists and holds classes (a module without code still packages an empty jar).
built() { [[ -f "$(jar_of "$1")" ]] && [[ $(jar tf "$(jar_of "$1")" | grep -c '\.class$') -gt 0 ]]; }
if [[ ${#images[@]} -eq 0 ]]; then
  for i in virt-launcher virt-controller virt-handler virt-api virt-operator; do
    if built "$i"; then images+=("$i"); else echo "build.sh: $i: $(jar_of "$i") has no classes (not built, or its module has no code yet), skipped" >&2; fi
  done
  [[ ${#images[@]} -gt 0 ]] || { echo "build.sh: no jar built: mvn -B -pl launcher,controller,handler,apiserver,operator -am package -DskipTests" >&2; exit 1; }
fi
for i in "${images[@]}"; do
  built "$i" || { echo "build.sh: $i: $(jar_of "$i") not built: mvn -B -pl $(basename "$(dirname "$(dirname "$(jar_of "$i")")")") -am package -DskipTests" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/qvirt-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The shared libraries ldd resolves for an ELF file, one path a line; fails (naming them) if any is not found,
# since the image would build and then fail only at run time.
libs_of() { # FILE
  local out
  # libjvm.so is in the java process before any JDK library loads; ldd alone cannot find it for some.
  out=$(ldd "$1" | grep -v '^[[:space:]]*libjvm\.so => not found' || true)
  if grep -q 'not found' <<< "$out"; then
    echo "build.sh: $1 needs libraries this host lacks:" >&2; grep 'not found' <<< "$out" >&2; return 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<< "$out"
}

# A file and, for an ELF, every shared library the dynamic loader would map for it (resolved on this host).
copy_with_libs() { # ROOTFS FILE...
  local rootfs=$1; shift
  local f
  for f in "$@"; do
    cp --parents -L "$f" "$rootfs"
    copy_libs "$rootfs" "$f"   # nothing for a static binary
  done
}

# The system libraries of ELF file FILE into ROOTFS (those the rootfs has already are skipped).
copy_libs() { # ROOTFS FILE
  local libs
  libs=$(libs_of "$2")   # an assignment, so a failure stops the build (set -e)
  copy_paths "$1" "$libs"
}

# Host files, one absolute path a line, into ROOTFS at the same paths, unless already there.
copy_paths() { # ROOTFS PATHS
  local lib
  while read -r lib; do
    if [[ -n "$lib" && ! -e "$1$lib" ]]; then
      cp --parents -L "$lib" "$1"
    fi
  done <<< "$2"
}

base_rootfs() { # ROOTFS
  local r=$1
  # Debian bookworm is merged-/usr: /lib, /lib64, /bin, /sbin are links, so paths ldd prints resolve.
  mkdir -p "$r"/usr/{bin,sbin,lib,lib64} "$r"/etc "$r"/tmp "$r"/run "$r"/var/run "$r"/proc "$r"/dev "$r"/sys
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nqemu:x:107:107:qemu:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nkvm:x:108:qemu\nqemu:x:107:\nnogroup:x:65534:\n' > "$r/etc/group"
  cp /bin/busybox "$r/usr/bin/busybox"
  local applet
  for applet in $(busybox --list-full); do
    [[ -e "$r/$applet" || -L "$r/$applet" ]] || { mkdir -p "$r/$(dirname "$applet")"; ln -s /usr/bin/busybox "$r/$applet"; }
  done
}

# One Java runtime for every image: the modules the jars use (jdeps) plus TLS with EC keys (API servers).
jre=$work/jre
modules=$( { for i in "${images[@]}"; do
               j=$(jar_of "$i"); jdeps --ignore-missing-deps --multi-release 17 --print-module-deps \
                 --class-path "$(dirname "$j")/lib/*" "$j"; done; echo java.logging,jdk.crypto.ec,java.naming; } \
           | tr ',' '\n' | sort -u | paste -sd, -)
jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 --output "$jre"
# Headless: no X11 or sound natives (their libraries are not even on a headless JDK's host).
rm -f "$jre"/lib/{libawt_xawt,libjawt,libsplashscreen,libjsound}.so
# The host libraries the runtime links, once for every image; its own are found through its RUNPATH.
jre_libs=""
for so in "$jre/bin/java" $(find "$jre/lib" -name '*.so'); do
  libs=$(libs_of "$so")   # an assignment, so a missing library stops the build
  jre_libs+="$libs"$'\n'
done
jre_libs=$(grep -v "^$jre/" <<< "$jre_libs" | sort -u || true)
echo "build.sh: Java runtime with $modules ($(du -sh "$jre" | cut -f1))" >&2

add_java_app() { # ROOTFS MODULE COMMAND
  local r=$1 module=$2 cmd=$3
  cp -a "$jre" "$r/usr/lib/qvirt-jre"
  copy_paths "$r" "$jre_libs"
  # Native libraries inside the jars (Netty's epoll transport, jnr-ffi's jffi) are unpacked to /tmp and
  # dlopen'ed at run time: the system libraries they link (libdl.so.2, ...) must be in the image too.
  local jar entries entry so natives=$work/natives-$module
  mkdir -p "$natives"
  for jar in "$root/$module/target/lib/"*.jar; do
    entries=$(jar tf "$jar" | grep -E '^(META-INF/native/.*x86_64.*|jni/x86_64-Linux/.*)\.so$' || true)
    for entry in $entries; do
      (cd "$natives" && jar xf "$jar" "$entry")
    done
  done
  for so in $(find "$natives" -name '*.so'); do
    copy_libs "$r" "$so"
  done
  mkdir -p "$r/usr/lib/qvirt/$module"
  cp "$root/$module/target/qvirt-$module.jar" "$r/usr/lib/qvirt/$module/"
  cp -r "$root/$module/target/lib" "$r/usr/lib/qvirt/$module/lib"
  # The JVM flags of bin/_java-app that matter in a pod; exec keeps the pid (launcher exec becomes QEMU).
  cat > "$r/usr/bin/$cmd" <<EOF
#!/bin/sh
exec /usr/lib/qvirt-jre/bin/java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djnr.ffi.asm.enabled=false \\
  \${QVIRT_JAVA_OPTS:-} -jar /usr/lib/qvirt/$module/qvirt-$module.jar "\$@"
EOF
  chmod 755 "$r/usr/bin/$cmd"
}

add_qemu() { # ROOTFS
  local r=$1
  copy_with_libs "$r" /usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /usr/bin/xorriso \
    /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
  # Firmware and option ROMs QEMU loads by name from Debian's firmware path (`qemu-system-x86_64 -L help`):
  # bios-256k.bin (seabios), kvmvapic.bin, linuxboot_dma.bin, efi-virtio.rom (ipxe), ...
  mkdir -p "$r/usr/share" "$r/usr/lib/ipxe"
  cp -rL /usr/share/qemu /usr/share/seabios "$r/usr/share/"
  cp -rL /usr/lib/ipxe/qemu "$r/usr/lib/ipxe/qemu"
  # OVMF (Debian's ovmf) for domain.firmware.bootloader.efi: the launcher's FirmwareConfigurator reads these four.
  mkdir -p "$r/usr/share/OVMF"
  cp -L /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd /usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
    /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$r/usr/share/OVMF/"
  mkdir -p "$r/run/qvirt" "$r/var/run/qvirt/container-disks" "$r/var/lib/qvirt/images"
  chown 107:107 "$r/run/qvirt" "$r/var/run/qvirt/container-disks" "$r/var/lib/qvirt/images"
}

for image in "${images[@]}"; do
  r=$work/$image/rootfs
  mkdir -p "$r"
  base_rootfs "$r"
  case "$image" in
    virt-launcher) add_java_app "$r" launcher launcher; add_qemu "$r"; entry=/usr/bin/launcher ;;
    virt-controller) add_java_app "$r" controller virt-controller; entry=/usr/bin/virt-controller ;;
    virt-handler) add_java_app "$r" handler virt-handler
      # Bridge plumbing runs `nsenter -t PID -n ip -j ...`: busybox's nsenter will do, its ip has no -j nor tuntap.
      # base_rootfs made usr/sbin/ip a link to busybox: removed first, or cp would write through it.
      rm -f "$r/usr/sbin/ip"; copy_with_libs "$r" /usr/sbin/ip
      entry=/usr/bin/virt-handler ;;
    virt-api) add_java_app "$r" apiserver virt-api; entry=/usr/bin/virt-api ;;
    virt-operator) add_java_app "$r" operator virt-operator; entry=/usr/bin/virt-operator ;;
  esac
  # The handler is the one root process (privileged DaemonSet: /dev/kvm, the kubelet's device-plugin
  # directory); launcher and controller run as KubeVirt's qemu user.
  user=107:107; [[ "$image" == virt-handler ]] && user=0:0
  layout=$out/$image
  rm -rf "$layout"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci insert --image "$layout:$tag" "$r" /
  umoci config --image "$layout:$tag" --author "qvirt images/build.sh" \
    --config.entrypoint "$entry" --config.user "$user" --config.workingdir / \
    --config.env PATH=/usr/bin:/usr/sbin --config.env JAVA_HOME=/usr/lib/qvirt-jre \
    --config.label org.opencontainers.image.title="$image" --config.label org.opencontainers.image.version="$tag" \
    --os linux --architecture amd64
  umoci gc --layout "$layout"
  echo "build.sh: $image:$tag -> $layout ($(du -sh "$layout" | cut -f1))" >&2
  if [[ -n "$push" ]]; then
    tls=(); $insecure && tls=(--dest-tls-verify=false)
    skopeo copy -q "${tls[@]}" "oci:$layout:$tag" "docker://$push/$image:$tag"
    echo "build.sh: pushed $push/$image:$tag" >&2
  fi
  echo "$layout:$tag"
done
