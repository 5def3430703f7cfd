package io.qvirt.kvmprobe;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the host says outside the KVM API: the vendor module in /sys/module and /proc/cpuinfo flags. */
final class HostInfo {
    private HostInfo() {
    }

    /** Modules that drive KVM on x86 besides the generic {@code kvm}; others named kvm_* are reported too. */
    static final List<String> KNOWN_VENDOR_MODULES = List.of("kvm_intel", "kvm_amd", "kvm_pvm");

    /** The loaded KVM vendor module (kvm_intel, kvm_amd, kvm_pvm, another kvm_*), or null. */
    static String vendorModule(Path sysModule) {
        for (String m : KNOWN_VENDOR_MODULES) {
            if (Files.isDirectory(sysModule.resolve(m))) {
                return m;
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(sysModule, "kvm_*")) {
            for (Path p : ds) {
                return p.getFileName().toString();
            }
        } catch (IOException | RuntimeException e) {
            // no /sys/module (container without sysfs): unknown
        }
        return null;
    }

    /** The vendor module's {@code nested} parameter as written (Y, N, 1, 0), or null if absent. */
    static String nestedParameter(Path sysModule, String module) {
        if (module == null) {
            return null;
        }
        try {
            return Files.readString(sysModule.resolve(module).resolve("parameters/nested")).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The first {@code flags} line of /proc/cpuinfo, split; empty if unreadable. */
    static List<String> hostFlags(Path cpuinfo) {
        try (var in = Files.newBufferedReader(cpuinfo)) {
            for (String l = in.readLine(); l != null; l = in.readLine()) {
                if (l.startsWith("flags")) {
                    String s = l.substring(l.indexOf(':') + 1).strip();
                    return s.isEmpty() ? List.of() : List.of(s.split(" +"));
                }
            }
            return List.of();
        } catch (IOException | RuntimeException e) {
            return new ArrayList<>();
        }
    }
}
