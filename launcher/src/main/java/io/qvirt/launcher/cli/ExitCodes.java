package io.qvirt.launcher.cli;

import io.qvirt.api.ManifestException;
import io.qvirt.api.ValidationException;
import io.qvirt.launcher.control.VmControlException;
import io.qvirt.launcher.process.NativeException;
import io.qvirt.launcher.runtime.LauncherException;
import io.qvirt.qmp.QmpException;

/** Exit codes everywhere in qvirt, and the one place exceptions become them. */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int INVALID = 2;

    private ExitCodes() {
    }

    static int of(Throwable e) {
        if (e instanceof ValidationException || e instanceof ManifestException || e instanceof IllegalArgumentException
                || e instanceof picocli.CommandLine.ParameterException) {
            return INVALID;
        }
        return FAILURE;
    }

    /** What the user reads: the message alone for errors qvirt understands, more for the unexpected. */
    static String message(Throwable e) {
        if (e instanceof ValidationException || e instanceof ManifestException || e instanceof LauncherException
                || e instanceof VmControlException || e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (e instanceof QmpException || e instanceof NativeException) {
            return e.getMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
