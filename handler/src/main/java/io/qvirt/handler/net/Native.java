package io.qvirt.handler.net;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * The libc calls of the pod network plumbing, and only here: entering a network namespace. Every return is
 * checked; a failure becomes an {@link IllegalStateException} naming the call, its argument and errno. No jnr type
 * leaves this class.
 */
final class Native {
    static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;

    public interface LibC {
        @SaveError int open(String path, int flags, int mode);
        @SaveError int close(int fd);
        @SaveError int setns(int fd, int nstype);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Native() {
    }

    /** An fd on {@code path} (a namespace file such as /proc/PID/ns/net), close-on-exec. */
    static int openNamespace(String path) {
        int fd = LIBC.open(path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) {
            throw failure("open(" + path + ")");
        }
        return fd;
    }

    /** Moves the calling thread (only it) into the network namespace {@code fd} refers to. */
    static void setNetns(int fd, String what) {
        if (LIBC.setns(fd, CLONE_NEWNET) != 0) {
            throw failure("setns(" + what + ", CLONE_NEWNET)");
        }
    }

    static void close(int fd) {
        if (LIBC.close(fd) != 0) {
            throw failure("close(" + fd + ")");
        }
    }

    private static IllegalStateException failure(String call) {
        int errno = RUNTIME.getLastError();
        jnr.constants.platform.Errno e = jnr.constants.platform.Errno.valueOf(errno);
        String name = e == null || e == jnr.constants.platform.Errno.__UNKNOWN_CONSTANT__ ? ""
                : " (" + e.name() + ": " + e.description() + ")";
        return new IllegalStateException(call + " failed: errno " + errno + name);
    }
}
