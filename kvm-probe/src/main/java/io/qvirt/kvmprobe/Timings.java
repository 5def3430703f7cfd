package io.qvirt.kvmprobe;

/**
 * Where the probe's wall time went, in milliseconds (excluding JVM start).
 *
 * @param hostInfo   reading /sys/module and /proc/cpuinfo
 * @param nativeInit binding libc through jnr-ffi (first use in the process only)
 * @param api        open, API version, capabilities, vCPU mmap size, supported CPUID
 * @param smoke      both smoke guests (0 when skipped)
 * @param total      the whole {@link KvmProbe#probe} call
 */
public record Timings(double hostInfo, double nativeInit, double api, double smoke, double total) {
}
