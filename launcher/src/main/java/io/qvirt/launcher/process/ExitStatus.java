package io.qvirt.launcher.process;

/** How a child ended: an exit code, or the signal that killed it. */
public record ExitStatus(int code, int signal) {
    static ExitStatus fromWaitStatus(int status) {
        int sig = status & 0x7f;
        if (sig == 0) {
            return new ExitStatus((status >> 8) & 0xff, 0);
        }
        return new ExitStatus(-1, sig);
    }

    /** Decodes a raw waitpid status (for tests and callers that waited themselves). */
    public static ExitStatus fromWaitStatusForTest(int status) {
        return fromWaitStatus(status);
    }

    public boolean bySignal() {
        return signal != 0;
    }

    /** "exit code 0", "killed by signal 9 (SIGKILL)". */
    public String describe() {
        if (!bySignal()) {
            return "exit code " + code;
        }
        return "killed by signal " + signal + " (" + Signals.name(signal) + ")";
    }
}
