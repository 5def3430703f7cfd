package io.qvirt.virtctl;

import picocli.CommandLine;

/** Exit codes everywhere in qvirt, and the one place exceptions become them and their one-line message. */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int INVALID = 2;

    private ExitCodes() {
    }

    static int of(Throwable e) {
        if (e instanceof VirtctlException.Usage || e instanceof VirtctlException.Config
                || e instanceof CommandLine.ParameterException) {
            return INVALID;
        }
        return FAILURE;
    }

    /** What the user reads: the message alone for failures virtctl understands, the type too for the unexpected. */
    static String message(Throwable e) {
        if (e instanceof VirtctlException) {
            return e.getMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
