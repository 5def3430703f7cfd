package io.qvirt.handler.vmi;

import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.control.VmControlException;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
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
    private volatile LauncherInfo info;
    /** The MACs virt-handler gave bridge interfaces, read once: network-ready.json is final before QEMU starts. */
    private volatile java.util.Map<String, String> guestMacs;
    final VmControl control;
    private final QmpSubscription subscription;
    /** When the oldest status event not yet written arrived (System.nanoTime), for the event-to-status figure; 0 if none. */
    private final java.util.concurrent.atomic.AtomicLong pendingEventNanos = new java.util.concurrent.atomic.AtomicLong();
    private volatile String shutdownReason;
    /** QEMU's last query-status answer; valid while {@link #stale} is false. */
    private volatile VmState known;
    /** Set by every status event, a dropped connection and the periodic resync: {@link #state} must ask QEMU. */
    private final java.util.concurrent.atomic.AtomicBoolean stale = new java.util.concurrent.atomic.AtomicBoolean(true);
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
        qmp.disconnected().whenComplete((t, e) -> {
            stale.set(true);
            onChange.run();
        });
    }

    private void onEvent(QmpEvent e) {
        stale.set(true);
        pendingEventNanos.compareAndSet(0, System.nanoTime());
        if (e.name().equals("SHUTDOWN")) {
            shutdownReason = e.data() != null ? e.data().path("reason").asText("guest-shutdown") : "guest-shutdown";
        }
    }

    /**
     * The MAC virt-handler gave each bridge interface without a {@code macAddress} ({@code network-ready.json}), by
     * interface name; empty without bridge. Read once: the launcher waits for that file before it becomes QEMU,
     * so it is final by the time the handler attaches.
     */
    java.util.Map<String, String> guestMacs() {
        java.util.Map<String, String> m = guestMacs;
        if (m == null) {
            java.util.Map<String, String> read = new java.util.HashMap<>();
            try {
                var ready = io.qvirt.launcher.runtime.NetworkHandshake.read(
                        io.qvirt.launcher.runtime.NetworkHandshake.readyFile(paths),
                        io.qvirt.launcher.runtime.NetworkHandshake.Ready.class);
                if (ready != null && ready.interfaces() != null) {
                    ready.interfaces().stream().filter(i -> i.name() != null && i.mac() != null)
                            .forEach(i -> read.put(i.name(), i.mac()));
                }
            } catch (RuntimeException e) {
                // unreadable: reported as no MAC, read again at the next sync
                return java.util.Map.of();
            }
            m = java.util.Map.copyOf(read);
            guestMacs = m;
        }
        return m;
    }

    /**
     * The launcher's {@code launcher.json}, or null while there is none: read again until it is there, since
     * {@code launcher exec} binds qmp.sock (which the handler may attach to at once) before it writes the file.
     */
    LauncherInfo info() {
        LauncherInfo i = info;
        if (i == null) {
            try {
                i = LauncherInfos.read(paths);
                info = i;
            } catch (RuntimeException e) {
                // not written yet: the next sync reads again
            }
        }
        return i;
    }

    private volatile long qemuPid;

    /** This VM's QEMU as seen from the handler's pid namespace, or -1 (see {@link QemuProcess}). */
    long qemuPid() {
        long known = qemuPid;
        String[] nn = key.split("/", 2);
        long pid = QemuProcess.find(nn[0], nn[1], known > 0 ? known : info() == null ? -1 : info().qemuPid());
        qemuPid = pid;
        return pid;
    }

    /**
     * QEMU's state: its last query-status answer while no status event, dropped connection or resync came since,
     * else a new query-status. QEMU's run state changes only with those events, so a sync that the VMI or pod
     * changing brought (the handler's own writes among them) costs no QMP round trip, and a status event waits less
     * behind one. The flag is cleared before the query, so an event during it makes the next call ask again.
     *
     * @throws VmControlException as {@link VmControl#state()} does (and a {@link io.qvirt.qmp.QmpException}); the next
     *     call asks again
     */
    VmState state() {
        VmState k = known;
        if (k != null && !stale.get()) {
            return k;
        }
        stale.set(false);
        try {
            k = control.state();
        } catch (RuntimeException e) {
            stale.set(true);
            throw e;
        }
        known = k;
        return k;
    }

    /** The next {@link #state} asks QEMU (the periodic resync; after the handler itself changed QEMU's state). */
    void markStale() {
        stale.set(true);
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
