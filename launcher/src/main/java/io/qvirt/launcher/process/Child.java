package io.qvirt.launcher.process;

import java.util.concurrent.CompletableFuture;

/** A spawned child; its owner thread reaps it and completes {@link #exit()}. */
public final class Child {
    private final int pid;
    private final CompletableFuture<ExitStatus> exit;

    Child(int pid, CompletableFuture<ExitStatus> exit) {
        this.pid = pid;
        this.exit = exit;
    }

    public long pid() {
        return pid;
    }

    /** Completes when the child has exited and been reaped. */
    public CompletableFuture<ExitStatus> exit() {
        return exit;
    }

    public boolean isAlive() {
        return !exit.isDone();
    }

    /** Sends {@code sig} unless the child was already reaped (its pid may be reused then). */
    public void signal(int sig) {
        if (!exit.isDone()) {
            Signals.send(pid, sig);
        }
    }
}
