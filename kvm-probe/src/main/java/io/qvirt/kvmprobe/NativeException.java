package io.qvirt.kvmprobe;

import jnr.constants.platform.Errno;

/**
 * A native call failed: names the call (for example {@code ioctl(KVM_CREATE_VM)}) and carries the
 * errno both as a number and as jnr-constants' {@link Errno} (null when the number is unknown).
 */
public final class NativeException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeException(String call, int errno) {
        super(call + " failed: " + describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, as {@code function(detail)}. */
    public String call() {
        return call;
    }

    /** The raw errno value. */
    public int errnoValue() {
        return errno;
    }

    /** The errno as a constant, or null if this platform does not know the number. */
    public Errno errno() {
        return Errno.valueOf(errno);
    }

    /** The symbolic errno name, e.g. {@code EBADF}, or {@code errno N}. */
    public String errnoName() {
        Errno e = errno();
        return e == null || e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    }

    /** True if this failure's errno is {@code e}. */
    public boolean is(Errno e) {
        return e.intValue() == errno;
    }

    static String describe(int errno) {
        Errno e = Errno.valueOf(errno);
        if (e == null || e == Errno.__UNKNOWN_CONSTANT__) {
            return "errno " + errno;
        }
        return e.name() + " (" + e.description() + ")";
    }
}
