package io.qvirt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An endless stream over a file someone else writes (libvirt's serial file via virtlogd, QEMU's
 * console.log), polled every 2 ms like the baseline did, so {@link io.qvirt.testdata.ConsoleWatcher} can
 * watch it as it watches a pipe. The file may not exist yet. Ends on {@link #close()}.
 */
final class FileFollower extends InputStream {
    private static final long POLL_MS = 2;
    private final Path file;
    private RandomAccessFile raf;
    private volatile boolean closed;

    FileFollower(Path file) {
        this.file = file;
    }

    @Override
    public int read() throws IOException {
        byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (!closed) {
            if (raf == null && Files.exists(file)) {
                raf = new RandomAccessFile(file.toFile(), "r");
            }
            if (raf != null) {
                int n = raf.read(b, off, len);
                if (n > 0) {
                    return n;
                }
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        if (raf != null) {
            raf.close();
        }
    }
}
