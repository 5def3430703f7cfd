package io.qvirt.launcher.image;

import java.io.PrintWriter;

/**
 * Download progress on a terminal: one line on stderr, rewritten at most five times a second, with the
 * bytes fetched of those missing and the rate. Only used when stderr is a terminal.
 */
public final class TerminalProgress implements ImageStore.Progress {
    private final PrintWriter err;
    private String image;
    private long total;
    private long start;
    private long last;
    /** Bytes of blobs finished before the current one. */
    private long finished;
    private long current;
    private String currentDigest;

    public TerminalProgress(PrintWriter err) {
        this.err = err;
    }

    @Override
    public synchronized void begin(String image, long totalBytes) {
        this.image = image;
        this.total = totalBytes;
        this.start = System.nanoTime();
        this.last = 0;
        this.finished = 0;
        this.current = 0;
        this.currentDigest = null;
    }

    @Override
    public synchronized void bytes(Descriptor blob, long done) {
        if (!blob.digest().equals(currentDigest)) {
            finished += current;
            currentDigest = blob.digest();
        }
        current = done;
        long now = System.nanoTime();
        if (now - last < 200_000_000L && done < blob.size()) {
            return;
        }
        last = now;
        long got = finished + current;
        double secs = Math.max(1e-3, (now - start) / 1e9);
        err.print(String.format("\rpulling %s: %.1f / %.1f MB, %.1f MB/s   ", image, got / 1e6, total / 1e6, got / 1e6 / secs));
        err.flush();
    }

    @Override
    public synchronized void end() {
        if (last != 0) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
