package io.qvirt.launcher.control;

import io.qvirt.qmp.EventWaiter;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpDisconnectedException;
import io.qvirt.qmp.QmpEvent;
import io.qvirt.qmp.QmpException;
import io.qvirt.qmp.QmpSubscription;
import io.qvirt.qmp.QmpTimeoutException;
import io.qvirt.qmp.StatusInfo;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;


/**
 * One VM's lifecycle over a QMP connection, for any manager (launcher run, the handler, a CLI
 * command). State comes from {@code query-status} and events, never from what was requested; every
 * wait has a timeout. Thread-safe.
 */
public final class VmControl implements AutoCloseable {
    /** How long a single QMP command may take before the VM is declared unresponsive. */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
    /** How often the ACPI power button is pressed again while a graceful shutdown waits. */
    public static final Duration POWER_BUTTON_REPEAT = Duration.ofSeconds(5);

    private final QmpClient qmp;
    private final QmpSubscription subscription;
    private volatile String shutdownReason;
    private volatile String panic;

    /** Watches {@code qmp}'s events from now on; does not take ownership of anything but the subscription. */
    public VmControl(QmpClient qmp) {
        this.qmp = qmp;
        this.subscription = qmp.subscribe(e -> e.name().equals("SHUTDOWN") || e.name().equals("GUEST_PANICKED"), this::onEvent);
    }

    private void onEvent(QmpEvent e) {
        if (e.name().equals("SHUTDOWN")) {
            shutdownReason = e.data() != null ? e.data().path("reason").asText(null) : null;
        } else {
            String info = e.data() != null && e.data().has("info") ? e.data().get("info").toString() : null;
            panic = info != null ? info : "pvpanic";
        }
    }

    public QmpClient qmp() {
        return qmp;
    }

    /** The state QEMU reports now. */
    public VmState state() {
        StatusInfo s = await(qmp.commands().queryStatus(), "query-status");
        return VmState.fromQemu(s.status(), shutdownReason, panic);
    }

    /** Starts the guest's CPUs (after {@code -S}, or to resume). */
    public void cont() {
        await(qmp.commands().cont(), "cont");
    }

    /** Pauses the guest and returns the state QEMU reports afterwards (paused). */
    public VmState pause() {
        try (EventWaiter stop = qmp.expectEvent("STOP", e -> true)) {
            await(qmp.commands().stop(), "stop");
            VmState s = state();
            if (!s.paused()) {
                stop.await(COMMAND_TIMEOUT);
                s = state();
            }
            return s;
        }
    }

    /** Resumes a paused guest and returns the state QEMU reports afterwards. */
    public VmState unpause() {
        await(qmp.commands().cont(), "cont");
        return state();
    }

    /** {@code system_reset}: a hard reset of the guest, as the reset button. */
    public void reset() {
        await(qmp.commands().systemReset(), "system_reset");
    }

    /**
     * Graceful shutdown: ACPI power button, then wait up to {@code grace} for the guest to power off
     * (SHUTDOWN, or QEMU in {@code shutdown} state); then {@code quit}; then {@code killer} with SIGKILL
     * if QEMU is still there after a few seconds.
     *
     * @param grace  KubeVirt's terminationGracePeriodSeconds
     * @param killer sends SIGKILL to QEMU's pid when called; may be null if the caller cannot signal
     * @return how it ended
     */
    public ShutdownOutcome shutdown(Duration grace, Runnable killer) {
        ShutdownOutcome o = powerOff(grace);
        if (o.how() != ShutdownOutcome.How.QEMU_GONE) {
            quitOrKill(killer);
        }
        return o;
    }

    /**
     * The first half of {@link #shutdown}: ACPI power button and the wait for the guest to power off, without
     * ending QEMU, so a manager can record the outcome while QEMU (with {@code -no-shutdown}) still holds it.
     * A guest that is not running (prelaunch, paused) or already stopped is not signalled. The caller then
     * ends QEMU with {@link #quitOrKill}.
     *
     * @param grace how long the guest may take to power off
     * @return how it ended; {@link ShutdownOutcome.How#FORCED_AFTER_GRACE} if the guest is still on
     */
    public ShutdownOutcome powerOff(Duration grace) {
        try {
            VmState before = state();
            if (before.phase() == VmPhase.SUCCEEDED || before.phase() == VmPhase.FAILED) {
                return new ShutdownOutcome(ShutdownOutcome.How.ALREADY_STOPPED, before.reason());
            }
            if (before.phase() == VmPhase.SCHEDULED || before.paused()) {
                // A guest that is not running cannot see the power button; it has nothing to save either.
                return new ShutdownOutcome(ShutdownOutcome.How.QUIT, "guest was not running (" + before.qemuStatus() + ")");
            }
            long deadline = System.nanoTime() + grace.toNanos();
            try (EventWaiter off = qmp.expectEvent("SHUTDOWN", e -> true)) {
                while (true) {
                    // Pressed again every few seconds: a guest can miss one press (still booting, its ACPI
                    // daemon not yet listening, or right after a resume); a guest already shutting down ignores more.
                    await(qmp.commands().systemPowerdown(), "system_powerdown");
                    long left = deadline - System.nanoTime();
                    try {
                        // The waiter's future, not await(): await gives up the waiter on its first timeout.
                        QmpEvent e = off.future().get(Math.max(1, Math.min(left, POWER_BUTTON_REPEAT.toNanos())),
                                TimeUnit.NANOSECONDS);
                        String reason = e.data() != null ? e.data().path("reason").asText("guest-shutdown") : "guest-shutdown";
                        return new ShutdownOutcome(ShutdownOutcome.How.GUEST_POWERED_OFF, reason);
                    } catch (TimeoutException timeout) {
                        if (deadline - System.nanoTime() <= 0) {
                            return new ShutdownOutcome(ShutdownOutcome.How.FORCED_AFTER_GRACE,
                                    "guest did not power off within " + grace.toSeconds() + " s");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new VmControlException("interrupted while waiting for the guest to power off", e);
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof QmpException q) {
                            throw q;
                        }
                        throw new VmControlException("waiting for SHUTDOWN failed: " + e.getCause(), e.getCause());
                    }
                }
            }
        } catch (QmpDisconnectedException gone) {
            return new ShutdownOutcome(ShutdownOutcome.How.QEMU_GONE, "QEMU went away: " + gone.getMessage());
        }
    }

    /** {@code quit}; SIGKILL through {@code killer} if QEMU does not go within 5 s. */
    public void quitOrKill(Runnable killer) {
        try {
            qmp.commands().quit().get(5, TimeUnit.SECONDS);
            qmp.disconnected().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (killer != null) {
                killer.run();
            }
        } catch (ExecutionException | TimeoutException e) {
            if (!(e.getCause() instanceof QmpDisconnectedException) && killer != null) {
                killer.run();
            }
        }
    }

    private static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(COMMAND_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmControlException(what + " interrupted", e);
        } catch (TimeoutException e) {
            throw new VmControlException(what + ": QEMU did not answer within " + COMMAND_TIMEOUT.toSeconds() + " s", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof QmpException q) {
                throw q;
            }
            throw new VmControlException(what + " failed: " + c, c);
        }
    }

    @Override
    public void close() {
        subscription.close();
    }

}
