package io.qvirt.virtctl;

/**
 * A failure virtctl understands: its message is what the user reads (one line), its kind decides the exit code
 * ({@link ExitCodes#of}).
 */
class VirtctlException extends Exception {
    VirtctlException(String message) {
        super(message);
    }

    VirtctlException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Invalid arguments or flags: exit 2. */
    static final class Usage extends VirtctlException {
        Usage(String message) {
            super(message);
        }
    }

    /** No kubeconfig, an unreadable or invalid one, an unknown context: exit 2 (the user's input). */
    static final class Config extends VirtctlException {
        Config(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The API server could not be reached or did not answer in time: exit 1. */
    static final class Unreachable extends VirtctlException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The API server (or virt-api behind it) refused: its HTTP status and its message. Exit 1. */
    static final class Api extends VirtctlException {
        final int code;

        Api(int code, String message) {
            super(message);
            this.code = code;
        }

        /** The same refusal, its message prefixed as KubeVirt's virtctl words it ({@code Error starting VirtualMachine ...}). */
        Api prefixed(String prefix) {
            Api e = new Api(code, prefix + getMessage());
            e.setStackTrace(getStackTrace());
            return e;
        }
    }

    /** A runtime failure that is not the API server's answer (the console dropped, a guest agent missing): exit 1. */
    static final class Failure extends VirtctlException {
        Failure(String message) {
            super(message);
        }

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
