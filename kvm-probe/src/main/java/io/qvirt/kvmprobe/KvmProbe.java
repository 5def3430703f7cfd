package io.qvirt.kvmprobe;

import io.qvirt.kvmprobe.guest.SmokeGuests;
import jnr.constants.platform.Errno;
import jnr.ffi.Pointer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tells what a KVM device can really do: the API, its capabilities, what guests would see, and whether a
 * real-mode and a long-mode smoke guest run, which is what decides if a stock Linux kernel boots under
 * {@code -accel kvm}. {@link #probe} never throws for host conditions: every failure is a verdict with a
 * reason.
 *
 * <p>Verdict rules: {@link Verdict#NONE} when the device is missing, not a character device, not
 * openable, not KVM, or speaks another API version than 12. Otherwise {@link Verdict#FULL} when every
 * smoke guest passed and USER_MEMORY is present; {@link Verdict#LIMITED} when a smoke guest failed. With
 * smoke guests skipped the probe cannot prove anything, so it trusts only kvm_intel/kvm_amd (FULL, the
 * reason says the smoke guests were skipped) and calls anything else LIMITED.
 */
public final class KvmProbe {
    private KvmProbe() {
    }

    /** Capabilities without which no QEMU guest runs. */
    static final List<KvmCapability> REQUIRED = List.of(KvmCapability.USER_MEMORY);

    private static final String TCG_ADVICE = "use TCG (KubeVirt's useEmulation) or a host with kvm_intel/kvm_amd";

    /**
     * Starts binding libc on a daemon thread, so a later {@link #probe} finds it ready. Optional: a CLI
     * calls it first thing to overlap that one-time cost with argument parsing; harmless to call twice.
     */
    public static void prewarm() {
        Thread t = new Thread(() -> {
            try {
                Native.get();
            } catch (NativeException e) {
                // probe() reports it
            }
        }, "kvm-probe-prewarm");
        t.setDaemon(true);
        t.start();
    }

    /** Probes with {@link ProbeOptions#defaults()}. */
    public static ProbeReport probe() {
        return probe(ProbeOptions.defaults());
    }

    /** Probes {@code options.device()}; never throws for host conditions. */
    public static ProbeReport probe(ProbeOptions options) {
        return new Probe(options).run();
    }

    /** One probe's mutable state. */
    private static final class Probe {
        final ProbeOptions o;
        final long t0 = System.nanoTime();
        final String device;
        double hostMs;
        double nativeMs;
        double apiMs;
        double smokeMs;
        String vendor;
        String nested;
        List<String> hostFlags = List.of();
        int apiVersion = -1;
        int mmapSize = -1;
        final Map<String, Integer> caps = new LinkedHashMap<>();
        List<String> features = List.of();
        boolean nestedVisible;
        final List<SmokeResult> smoke = new ArrayList<>();

        Probe(ProbeOptions o) {
            this.o = o;
            this.device = o.device().toString();
        }

        ProbeReport run() {
            long t = System.nanoTime();
            vendor = HostInfo.vendorModule(o.sysModule());
            nested = HostInfo.nestedParameter(o.sysModule(), vendor);
            hostFlags = HostInfo.hostFlags(o.cpuinfo());
            hostMs = since(t);
            try {
                return probeDevice();
            } catch (RuntimeException | LinkageError e) {
                // A bug or an unexpected JVM condition: still a verdict, never a stack trace.
                return report(Verdict.NONE, "internal-error",
                        "kvm-probe failed unexpectedly (" + e + "); please report this");
            }
        }

        private ProbeReport probeDevice() {
            Path dev = o.device();
            if (!Files.exists(dev)) {
                String hint = hostFlags.contains("vmx") || hostFlags.contains("svm")
                        ? "load the module (modprobe kvm_intel or kvm_amd)"
                        : "this CPU shows no vmx/svm: enable virtualization in firmware or, in a VM, nested virtualization on its host";
                return report(Verdict.NONE, "missing", device + " does not exist: " + hint
                        + "; in a container pass the device (--device " + device + ")");
            }
            String kind = fileKind(dev);
            if (!"character device".equals(kind)) {
                return report(Verdict.NONE, "not-a-character-device", device + " is " + kind
                        + ", not a character device: point --device at the KVM device node (/dev/kvm)");
            }
            Native nat;
            long t = System.nanoTime();
            try {
                nat = Native.get();
            } catch (NativeException e) {
                return report(Verdict.NONE, "native-unavailable", "cannot call libc: " + e.getMessage());
            } finally {
                nativeMs = since(t);
            }
            t = System.nanoTime();
            int fd;
            try {
                fd = nat.open(device, Native.O_RDWR | Native.O_CLOEXEC);
            } catch (NativeException e) {
                apiMs = since(t);
                if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
                    return report(Verdict.NONE, "permission-denied", "permission denied opening " + device
                            + " (" + e.errnoName() + "): run as root or add the user to the group owning it "
                            + "(usually kvm: usermod -aG kvm $USER) and make it group read-write");
                }
                if (e.is(Errno.ENXIO) || e.is(Errno.ENODEV)) {
                    return report(Verdict.NONE, "open-failed", device + " exists but no driver answers ("
                            + e.errnoName() + "): load kvm and kvm_intel or kvm_amd");
                }
                return report(Verdict.NONE, "open-failed", "cannot open " + device + ": " + e.getMessage());
            }
            try {
                return probeApi(nat, fd, t);
            } finally {
                nat.closeQuietly(fd);
            }
        }

        private ProbeReport probeApi(Native nat, int fd, long t) {
            try {
                apiVersion = nat.ioctl(fd, Kvm.GET_API_VERSION, 0, "KVM_GET_API_VERSION");
            } catch (NativeException e) {
                apiMs = since(t);
                return report(Verdict.NONE, "not-kvm", device + " is not a KVM device: " + e.getMessage()
                        + "; point --device at /dev/kvm");
            }
            if (apiVersion != Kvm.API_VERSION) {
                apiMs = since(t);
                return report(Verdict.NONE, "api-version-mismatch", device + " speaks KVM API version "
                        + apiVersion + ", qvirt needs " + Kvm.API_VERSION + ": the kernel's KVM is unsupported");
            }
            for (KvmCapability c : KvmCapability.values()) {
                int v;
                try {
                    v = nat.ioctl(fd, Kvm.CHECK_EXTENSION, c.number(), "KVM_CHECK_EXTENSION(" + c.kernelName() + ")");
                } catch (NativeException e) {
                    v = -1;
                }
                caps.put(c.name(), v);
            }
            Pointer cpuid = null;
            try {
                mmapSize = nat.ioctl(fd, Kvm.GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
            } catch (NativeException e) {
                apiMs = since(t);
                return report(Verdict.LIMITED, "ok", "the KVM API answers but " + e.getMessage());
            }
            String cpuidProblem = null;
            try {
                cpuid = supportedCpuid(nat, fd);
                List<CpuFeatures.Entry> entries = entries(cpuid);
                features = CpuFeatures.decode(entries);
                nestedVisible = features.contains("vmx") || features.contains("svm");
            } catch (NativeException e) {
                cpuidProblem = e.getMessage();
            }
            apiMs = since(t);
            for (KvmCapability c : REQUIRED) {
                if (caps.getOrDefault(c.name(), 0) <= 0) {
                    return report(Verdict.LIMITED, "ok", "KVM lacks " + c.kernelName() + ", which QEMU needs; "
                            + TCG_ADVICE);
                }
            }
            if (!o.runSmoke()) {
                boolean trusted = "kvm_intel".equals(vendor) || "kvm_amd".equals(vendor);
                String suffix = cpuidProblem == null ? "" : " (" + cpuidProblem + ")";
                return trusted
                        ? report(Verdict.FULL, "ok", "KVM API " + apiVersion + " answers on " + device + " with "
                        + vendor + "; smoke guests skipped, so booting was not verified" + suffix)
                        : report(Verdict.LIMITED, "ok", "smoke guests skipped and the vendor module is "
                        + (vendor == null ? "unknown" : vendor) + ", not kvm_intel/kvm_amd: cannot vouch that a "
                        + "stock kernel boots; run without --no-smoke" + suffix);
            }
            if (cpuidProblem != null) {
                return report(Verdict.LIMITED, "ok", "the KVM API answers but " + cpuidProblem
                        + ", so no guest can be given a CPU model; " + TCG_ADVICE);
            }
            t = System.nanoTime();
            SmokeRunner runner = new SmokeRunner(nat, fd, mmapSize, cpuid);
            long timeout = o.smokeTimeout().toMillis();
            smoke.add(runner.run("real-mode", SmokeGuests.realMode(), timeout));
            if (smoke.get(0).passed()) {
                smoke.add(runner.run("long-mode", SmokeGuests.longMode(), timeout));
            }
            smokeMs = since(t);
            for (SmokeResult r : smoke) {
                if (!r.passed()) {
                    String which = r.name().equals("real-mode")
                            ? "the real-mode smoke guest failed (" + r.outcome() + "): " + r.detail()
                            + "; KVM cannot even run a boot sector here"
                            : "the long-mode smoke guest failed (" + r.outcome() + "): " + r.detail()
                            + "; a stock Linux kernel dies the same way";
                    return report(Verdict.LIMITED, "ok", "KVM on " + device + (vendor == null ? "" : " (" + vendor + ")")
                            + " is limited: " + which + "; " + TCG_ADVICE);
                }
            }
            return report(Verdict.FULL, "ok", "KVM works on " + device + (vendor == null ? "" : " (" + vendor + ")")
                    + ": real-mode and long-mode smoke guests passed");
        }

        private Pointer supportedCpuid(Native nat, int fd) throws NativeException {
            int nent = 128;
            while (true) {
                Pointer p = nat.allocate(Kvm.SIZEOF_CPUID2_HEADER + nent * Kvm.SIZEOF_CPUID_ENTRY2);
                p.putInt(0, nent);
                try {
                    nat.ioctl(fd, Kvm.GET_SUPPORTED_CPUID, p, "KVM_GET_SUPPORTED_CPUID");
                    return p;
                } catch (NativeException e) {
                    if (!e.is(Errno.E2BIG) || nent >= 4096) {
                        throw e;
                    }
                    nent *= 2;
                }
            }
        }

        private static List<CpuFeatures.Entry> entries(Pointer cpuid) {
            int n = cpuid.getInt(0);
            List<CpuFeatures.Entry> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long b = Kvm.SIZEOF_CPUID2_HEADER + (long) i * Kvm.SIZEOF_CPUID_ENTRY2;
                list.add(new CpuFeatures.Entry(cpuid.getInt(b), cpuid.getInt(b + 4), cpuid.getInt(b + 12),
                        cpuid.getInt(b + 16), cpuid.getInt(b + 20), cpuid.getInt(b + 24)));
            }
            return list;
        }

        private ProbeReport report(Verdict v, String status, String reason) {
            Timings timings = new Timings(hostMs, nativeMs, apiMs, smokeMs, since(t0));
            return new ProbeReport(v, reason, device, status, apiVersion, mmapSize, caps, vendor, nested,
                    nestedVisible, hostFlags, features, smoke, !o.runSmoke(), timings);
        }

        private static double since(long t) {
            return (System.nanoTime() - t) / 1e6;
        }
    }

    /** "a regular file", "a directory", "character device", ... for the reason text. */
    static String fileKind(Path p) {
        try {
            Object mode = Files.getAttribute(p, "unix:mode");
            int fmt = ((Integer) mode) & 0170000;
            return switch (fmt) {
                case 0020000 -> "character device";
                case 0060000 -> "a block device";
                case 0040000 -> "a directory";
                case 0100000 -> "a regular file";
                case 0010000 -> "a FIFO";
                case 0140000 -> "a socket";
                default -> "an unknown file type";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            if (Files.isRegularFile(p)) {
                return "a regular file";
            }
            return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "a directory" : "an unreadable file";
        }
    }
}
