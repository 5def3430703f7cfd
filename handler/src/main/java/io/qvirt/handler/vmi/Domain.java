package io.qvirt.handler.vmi;

import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpEvent;
import io.qvirt.qmp.QmpSubscription;
import java.util.Set;

/**
 * The handler's attachment to one running QEMU: its QMP connection on {@code qmp.sock}, a {@link VmControl}
 * over it, and the events that change a VMI's status. The handler never spawns QEMU; it only connects to what
 * {@code launcher exec} started.
 *
 * <p>Thread-safe. {@code onChange} runs on QMP's listener thread for each status event and once when the
 * connection drops: it must only enqueue.
 */
final class Domain implements AutoCloseable {
    /** The QMP events that change what the VMI's status says. */
    static final Set<String> STATUS_EVENTS = Set.of("STOP", "RESUME", "SHUTDOWN", "GUEST_PANICKED", "RESET");

    final String key;
    final String uid;
    final RuntimePaths paths;
    final LauncherInfo info;
    final VmControl control;
    private final QmpSubscription subscription;
    /** When the oldest status event not yet written arrived (System.nanoTime), for the event-to-status figure; 0 if none. */
    private final java.util.concurrent.atomic.AtomicLong pendingEventNanos = new java.util.concurrent.atomic.AtomicLong();
    private volatile String shutdownReason;
    /** Set once the start decision (cont, or staying paused) was taken, so a later sync never starts it again. */
    volatile boolean started;

    Domain(String key, String uid, RuntimePaths paths, LauncherInfo info, QmpClient qmp, Runnable onChange) {
        this.key = key;
        this.uid = uid;
        this.paths = paths;
        this.info = info;
        this.control = new VmControl(qmp);
        this.subscription = qmp.subscribe(e -> STATUS_EVENTS.contains(e.name()), e -> {
            onEvent(e);
            onChange.run();
        });
        qmp.disconnected().whenComplete((t, e) -> onChange.run());
    }

    private void onEvent(QmpEvent e) {
        pendingEventNanos.compareAndSet(0, System.nanoTime());
        if (e.name().equals("SHUTDOWN")) {
            shutdownReason = e.data() != null ? e.data().path("reason").asText("guest-shutdown") : "guest-shutdown";
        }
    }

    private volatile long qemuPid;

    /** This VM's QEMU as seen from the handler's pid namespace, or -1 (see {@link QemuProcess}). */
    long qemuPid() {
        long known = qemuPid;
        String[] nn = key.split("/", 2);
        long pid = QemuProcess.find(nn[0], nn[1], known > 0 ? known : info == null ? -1 : info.qemuPid());
        qemuPid = pid;
        return pid;
    }

    /** True while the QMP connection is up. */
    boolean isOpen() {
        return control.qmp().isOpen();
    }

    /** The reason of a SHUTDOWN event seen on this connection (the guest powered off), or null. */
    String shutdownReason() {
        return shutdownReason;
    }

    /** The time of the oldest status event not yet written to the VMI, and clears it; 0 if none. */
    long takePendingEvent() {
        return pendingEventNanos.getAndSet(0);
    }

    @Override
    public void close() {
        subscription.close();
        control.close();
        control.qmp().close();
    }
}
