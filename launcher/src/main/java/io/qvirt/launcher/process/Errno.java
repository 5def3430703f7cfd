package io.qvirt.launcher.process;

/** errno numbers as text, e.g. "errno 2 (ENOENT: No such file or directory)". */
final class Errno {
    private Errno() {
    }

    static String describe(int errno) {
        jnr.constants.platform.Errno e = jnr.constants.platform.Errno.valueOf(errno);
        if (e == null || e == jnr.constants.platform.Errno.__UNKNOWN_CONSTANT__) {
            return "errno " + errno;
        }
        return "errno " + errno + " (" + e.name() + ": " + e.description() + ")";
    }
}
