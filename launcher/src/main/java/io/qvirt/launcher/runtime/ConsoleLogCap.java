package io.qvirt.launcher.runtime;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a VM's {@code console.log} under a size cap. QEMU's chardev log has no cap of its own, so the VM's
 * manager (run, or the handler for exec'd VMs) checks it now and then: once it passes {@code maxBytes},
 * its last {@code maxBytes / 2} go to {@code console.log.1} and it is truncated in place. QEMU opened it
 * with {@code logappend=on} (O_APPEND), so its next write lands at the new end, leaving no hole: the two
 * files together never hold much more than 1.5 x the cap.
 */
public final class ConsoleLogCap implements AutoCloseable {
    /** KubeVirt's guest-console-log container keeps a few MiB; 8 MiB holds many boots of a chatty guest. */
    public static final long DEFAULT_MAX_BYTES = 8L << 20;

    private final Path log;
    private final long maxBytes;
    private final ScheduledExecutorService timer;

    private ConsoleLogCap(Path log, long maxBytes, ScheduledExecutorService timer) {
        this.log = log;
        this.maxBytes = maxBytes;
        this.timer = timer;
    }

    /**
     * Checks {@code log} every {@code periodMillis} on a daemon thread until closed.
     *
     * @param maxBytes at least 4096
     */
    public static ConsoleLogCap every(Path log, long maxBytes, long periodMillis) {
        if (maxBytes < 4096) {
            throw new IllegalArgumentException("console log cap must be >= 4096 bytes, got " + maxBytes);
        }
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "console-log-cap");
            th.setDaemon(true);
            return th;
        });
        ConsoleLogCap cap = new ConsoleLogCap(log, maxBytes, t);
        t.scheduleWithFixedDelay(() -> {
            try {
                cap.check();
            } catch (IOException e) {
                // The directory may be going away with the VM; the next check tries again.
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        return cap;
    }

    /**
     * One check.
     *
     * @return whether the log was rotated
     */
    public boolean check() throws IOException {
        return rotateIfOver(log, maxBytes);
    }

    /** @return whether {@code log} was over {@code maxBytes} and was rotated */
    static boolean rotateIfOver(Path log, long maxBytes) throws IOException {
        if (!Files.isRegularFile(log) || Files.size(log) <= maxBytes) {
            return false;
        }
        Path old = log.resolveSibling(log.getFileName() + ".1");
        Path tmp = log.resolveSibling(log.getFileName() + ".1.tmp");
        try (RandomAccessFile in = new RandomAccessFile(log.toFile(), "rw")) {
            long size = in.length();
            long keep = Math.min(size, maxBytes / 2);
            byte[] tail = new byte[(int) keep];
            in.seek(size - keep);
            in.readFully(tail);
            Files.write(tmp, tail);
            Files.move(tmp, old, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            // Bytes QEMU appended between the read and here are lost; at most one check period's worth.
            in.setLength(0);
        }
        return true;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
