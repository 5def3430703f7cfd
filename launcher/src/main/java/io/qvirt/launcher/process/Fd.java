package io.qvirt.launcher.process;

import java.nio.file.Path;

/**
 * An owned file descriptor (close-on-exec unless handed to a child by {@link Spawner} or {@link Exec},
 * which choose its number there). Closing twice is harmless.
 */
public final class Fd implements AutoCloseable {
    private int fd;

    private Fd(int fd) {
        this.fd = fd;
    }

    /** A listening Unix stream socket bound at {@code path}; the path must not exist. */
    public static Fd listenUnix(Path path) {
        return new Fd(Native.listenUnix(path.toString(), 16));
    }

    /** A stream socket connected to the Unix socket at {@code path}. */
    public static Fd connectUnix(Path path) {
        return new Fd(Native.connectUnix(path.toString()));
    }

    /**
     * The FIFO at {@code path} opened read-write, close-on-exec: on Linux that never waits for a reader, and it
     * works on a read-only mount too (no file is written). While this fd (or a copy a child inherits) is open, a
     * reader of the FIFO gets no EOF.
     *
     * @throws NativeException if it cannot be opened (ENOENT if it does not exist)
     * @throws IllegalArgumentException if {@code path} is something else than a FIFO
     */
    public static Fd openFifo(Path path) {
        try {
            Object mode = java.nio.file.Files.getAttribute(path, "unix:mode");
            if (!(mode instanceof Integer m) || (m & 0170000) != 0010000) {
                throw new IllegalArgumentException(path + " is not a FIFO");
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new NativeException("open(" + path + ")", 2 /* ENOENT */);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot stat " + path + ": " + e.getMessage(), e);
        }
        return new Fd(Native.openReadWrite(path.toString()));
    }

    /** Two connected Unix stream sockets. */
    public static Fd[] socketPair() {
        int[] sv = Native.socketPair();
        return new Fd[] {new Fd(sv[0]), new Fd(sv[1])};
    }

    /** The number; valid until {@link #close()} or {@link #release()}. */
    public int value() {
        if (fd < 0) {
            throw new IllegalStateException("fd already closed or released");
        }
        return fd;
    }

    /** Gives up ownership (for example to a client that will close it) and returns the number. */
    public int release() {
        int v = value();
        fd = -1;
        return v;
    }

    public boolean isOpen() {
        return fd >= 0;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            int v = fd;
            fd = -1;
            Native.close(v);
        }
    }

    @Override
    public String toString() {
        return "fd " + fd;
    }
}
