package io.qvirt.kvmprobe;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What to probe and how.
 *
 * @param device       the KVM device node; default {@code /dev/kvm}
 * @param runSmoke     run the smoke guests (default true); without them the verdict rests on the API and
 *                     the vendor module only
 * @param smokeTimeout the time each smoke guest may take (default 2 s)
 * @param sysModule    where loaded modules are listed (default {@code /sys/module}; tests point elsewhere)
 * @param cpuinfo      the host CPU description (default {@code /proc/cpuinfo})
 */
public record ProbeOptions(Path device, boolean runSmoke, Duration smokeTimeout, Path sysModule, Path cpuinfo) {
    public static final Path DEFAULT_DEVICE = Path.of("/dev/kvm");
    public static final Duration DEFAULT_SMOKE_TIMEOUT = Duration.ofSeconds(2);

    public ProbeOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(smokeTimeout, "smokeTimeout");
        Objects.requireNonNull(sysModule, "sysModule");
        Objects.requireNonNull(cpuinfo, "cpuinfo");
        if (smokeTimeout.isNegative() || smokeTimeout.isZero()) {
            throw new IllegalArgumentException("smoke timeout must be positive, got " + smokeTimeout);
        }
    }

    /** /dev/kvm, smoke guests on, 2 s each. */
    public static ProbeOptions defaults() {
        return new ProbeOptions(DEFAULT_DEVICE, true, DEFAULT_SMOKE_TIMEOUT, Path.of("/sys/module"),
                Path.of("/proc/cpuinfo"));
    }

    public ProbeOptions withDevice(Path d) {
        return new ProbeOptions(d, runSmoke, smokeTimeout, sysModule, cpuinfo);
    }

    public ProbeOptions withRunSmoke(boolean b) {
        return new ProbeOptions(device, b, smokeTimeout, sysModule, cpuinfo);
    }

    public ProbeOptions withSmokeTimeout(Duration t) {
        return new ProbeOptions(device, runSmoke, t, sysModule, cpuinfo);
    }
}
