package io.qvirt.launcher.runtime;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntSupplier;

/**
 * What this host has, as {@link HostFitCheck} reads it: an interface so tests can feed numbers.
 * {@link #host(IntSupplier)} reads the real machine.
 */
public interface HostFacts {
    /** Memory the kernel says can be given to new work without swapping ({@code MemAvailable}), bytes; -1 if unknown. */
    long memAvailableBytes();

    /** KVM's limit of vCPUs in one VM ({@code KVM_CAP_MAX_VCPUS}), or -1 if unknown (KVM not probed). */
    int kvmMaxVcpus();

    /**
     * The file system a new file at {@code file} would be written to (that of its nearest existing
     * ancestor) and the bytes an unprivileged write may still take there (statvfs {@code f_bavail}).
     *
     * @return null if it cannot be told (nothing of the path exists, or statvfs failed)
     */
    DiskSpace diskSpace(Path file);

    /**
     * @param store       how the file system is named to the user, e.g. {@code / (/dev/vda)}; equal for
     *                    files on the same file system
     * @param usableBytes what can still be written there
     */
    record DiskSpace(String store, long usableBytes) {
    }

    /**
     * The real host: {@code /proc/meminfo}, {@link FileStore#getUsableSpace()}, and KVM's vCPU limit from
     * {@code kvmMaxVcpus} (the kvm-probe report the accelerator was chosen by).
     */
    static HostFacts host(IntSupplier kvmMaxVcpus) {
        return new HostFacts() {
            @Override
            public long memAvailableBytes() {
                return memAvailable(Path.of("/proc/meminfo"));
            }

            @Override
            public int kvmMaxVcpus() {
                return kvmMaxVcpus.getAsInt();
            }

            @Override
            public DiskSpace diskSpace(Path file) {
                Path p = file.toAbsolutePath().normalize();
                while (p != null && !Files.exists(p)) {
                    p = p.getParent();
                }
                if (p == null) {
                    return null;
                }
                try {
                    FileStore fs = Files.getFileStore(p);
                    return new DiskSpace(fs.toString(), fs.getUsableSpace());
                } catch (IOException | SecurityException e) {
                    return null;
                }
            }
        };
    }

    /** {@code MemAvailable} of a meminfo file in bytes, or -1 if the file or the line is missing. */
    static long memAvailable(Path meminfo) {
        try {
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemAvailable:")) {
                    String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    long v = Long.parseLong(f[0]);
                    return f.length > 1 && f[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
