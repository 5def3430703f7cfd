package io.qvirt.handler.vmi;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The handler's own figures (syncs, status writes, attached QEMUs, QMP event -> VMI status latency) and the
 * per-VMI ones, in Prometheus' text format. Thread-safe.
 */
public final class HandlerMetrics {
    private static final int WINDOW = 4096;

    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong syncNanos = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private volatile int attached;
    private final long[] latencies = new long[WINDOW];
    private long latencyCount;

    void sync(long nanos) {
        syncs.incrementAndGet();
        syncNanos.addAndGet(nanos);
    }

    void statusWrite() {
        writes.incrementAndGet();
    }

    void attached(int n) {
        attached = n;
    }

    synchronized void eventToStatus(long nanos) {
        latencies[(int) (latencyCount++ % WINDOW)] = nanos;
    }

    /** The quantile {@code q} (0..1) of the last event -> status latencies, in seconds; NaN if none. */
    public synchronized double eventToStatusQuantile(double q) {
        int n = (int) Math.min(latencyCount, WINDOW);
        if (n == 0) {
            return Double.NaN;
        }
        long[] copy = Arrays.copyOf(latencies, n);
        Arrays.sort(copy);
        int i = (int) Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
        return copy[i] / 1e9;
    }

    /** Everything, for {@code GET /metrics}. */
    public String render(List<VmiSample> vmis) {
        StringBuilder b = new StringBuilder();
        b.append("# HELP qvirt_handler_syncs_total VMI syncs run.\n# TYPE qvirt_handler_syncs_total counter\n")
                .append("qvirt_handler_syncs_total ").append(syncs.get()).append('\n');
        b.append("# HELP qvirt_handler_sync_seconds_total Time spent in VMI syncs.\n# TYPE qvirt_handler_sync_seconds_total counter\n")
                .append("qvirt_handler_sync_seconds_total ").append(fmt(syncNanos.get() / 1e9)).append('\n');
        b.append("# HELP qvirt_handler_status_writes_total VMI status patches sent.\n# TYPE qvirt_handler_status_writes_total counter\n")
                .append("qvirt_handler_status_writes_total ").append(writes.get()).append('\n');
        b.append("# HELP qvirt_handler_attached_vmis QEMUs the handler is attached to over QMP.\n# TYPE qvirt_handler_attached_vmis gauge\n")
                .append("qvirt_handler_attached_vmis ").append(attached).append('\n');
        b.append("# HELP qvirt_handler_event_to_status_seconds QMP event to VMI status written, over the last ")
                .append(WINDOW).append(" events.\n# TYPE qvirt_handler_event_to_status_seconds summary\n");
        for (double q : new double[] {0.5, 0.9, 0.99}) {
            double v = eventToStatusQuantile(q);
            if (!Double.isNaN(v)) {
                b.append("qvirt_handler_event_to_status_seconds{quantile=\"").append(q).append("\"} ").append(fmt(v)).append('\n');
            }
        }
        synchronized (this) {
            b.append("qvirt_handler_event_to_status_seconds_count ").append(latencyCount).append('\n');
        }
        b.append("# HELP kubevirt_vmi_vcpu_seconds_total vCPU time of the VMI's vCPU threads.\n# TYPE kubevirt_vmi_vcpu_seconds_total counter\n");
        for (VmiSample s : vmis) {
            for (Map.Entry<String, Double> e : s.vcpuSeconds().entrySet()) {
                b.append("kubevirt_vmi_vcpu_seconds_total{").append(labels(s)).append(",id=\"").append(e.getKey())
                        .append("\",state=\"running\"} ").append(fmt(e.getValue())).append('\n');
            }
        }
        b.append("# HELP kubevirt_vmi_memory_resident_bytes Resident memory of the VMI's QEMU.\n# TYPE kubevirt_vmi_memory_resident_bytes gauge\n");
        for (VmiSample s : vmis) {
            if (s.residentBytes() >= 0) {
                b.append("kubevirt_vmi_memory_resident_bytes{").append(labels(s)).append("} ").append(s.residentBytes()).append('\n');
            }
        }
        block(b, vmis, "kubevirt_vmi_storage_read_traffic_bytes_total", "Bytes the guest read from a drive.", true);
        block(b, vmis, "kubevirt_vmi_storage_write_traffic_bytes_total", "Bytes the guest wrote to a drive.", false);
        return b.toString();
    }

    private static void block(StringBuilder b, List<VmiSample> vmis, String name, String help, boolean read) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
        for (VmiSample s : vmis) {
            for (Map.Entry<String, Long> e : (read ? s.blockRead() : s.blockWrite()).entrySet()) {
                b.append(name).append('{').append(labels(s)).append(",drive=\"").append(escape(e.getKey())).append("\"} ")
                        .append(e.getValue()).append('\n');
            }
        }
    }

    private static String labels(VmiSample s) {
        return "namespace=\"" + escape(s.namespace()) + "\",name=\"" + escape(s.name()) + "\",node=\"" + escape(s.node()) + "\"";
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }
}
