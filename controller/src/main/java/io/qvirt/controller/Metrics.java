package io.qvirt.controller;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The controller's Prometheus metrics, written in the text exposition format by {@link #render()}:
 * reconcile counts by kind and outcome, reconcile durations (sum and count per kind, plus a fixed set of
 * histogram buckets), and the depth of each work queue. Lock-free on the hot path.
 */
public final class Metrics {
    private static final double[] BUCKETS = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};

    private final Map<String, LongAdder> reconciles = new ConcurrentHashMap<>();
    private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
    private final Map<String, IntSupplier> queueDepths = new ConcurrentHashMap<>();

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final LongAdder sumNanos = new LongAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }
    }

    /** Records one reconcile of {@code kind} ({@code vm}, {@code vmi}) that ended with {@code outcome}. */
    public void reconciled(String kind, String outcome, long nanos) {
        reconciles.computeIfAbsent(kind + "\u0000" + outcome, k -> new LongAdder()).increment();
        Histogram h = durations.computeIfAbsent(kind, k -> new Histogram());
        h.count.increment();
        h.sumNanos.add(nanos);
        double seconds = nanos / 1e9;
        for (int i = 0; i < BUCKETS.length; i++) {
            if (seconds <= BUCKETS[i]) {
                h.buckets[i].increment();
            }
        }
    }

    /** Reports the depth of a queue at scrape time. */
    public void queue(String name, IntSupplier depth) {
        queueDepths.put(name, depth);
    }

    /** Total reconciles of {@code kind} with {@code outcome} so far. */
    public long count(String kind, String outcome) {
        LongAdder a = reconciles.get(kind + "\u0000" + outcome);
        return a == null ? 0 : a.sum();
    }

    /** The metrics in Prometheus' text format, version 0.0.4. */
    public String render() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP qvirt_controller_reconcile_total Reconciles by kind and outcome.\n");
        b.append("# TYPE qvirt_controller_reconcile_total counter\n");
        new TreeMap<>(reconciles).forEach((k, v) -> {
            String[] p = k.split("\u0000", 2);
            b.append("qvirt_controller_reconcile_total{kind=\"").append(p[0]).append("\",outcome=\"").append(p[1])
                    .append("\"} ").append(v.sum()).append('\n');
        });
        b.append("# HELP qvirt_controller_reconcile_duration_seconds Time spent in one reconcile.\n");
        b.append("# TYPE qvirt_controller_reconcile_duration_seconds histogram\n");
        new TreeMap<>(durations).forEach((kind, h) -> {
            for (int i = 0; i < BUCKETS.length; i++) {
                b.append("qvirt_controller_reconcile_duration_seconds_bucket{kind=\"").append(kind).append("\",le=\"")
                        .append(BUCKETS[i]).append("\"} ").append(h.buckets[i].sum()).append('\n');
            }
            b.append("qvirt_controller_reconcile_duration_seconds_bucket{kind=\"").append(kind)
                    .append("\",le=\"+Inf\"} ").append(h.count.sum()).append('\n');
            b.append("qvirt_controller_reconcile_duration_seconds_sum{kind=\"").append(kind).append("\"} ")
                    .append(h.sumNanos.sum() / 1e9).append('\n');
            b.append("qvirt_controller_reconcile_duration_seconds_count{kind=\"").append(kind).append("\"} ")
                    .append(h.count.sum()).append('\n');
        });
        b.append("# HELP qvirt_controller_workqueue_depth Keys waiting in a work queue.\n");
        b.append("# TYPE qvirt_controller_workqueue_depth gauge\n");
        new TreeMap<>(queueDepths).forEach((name, d) -> b.append("qvirt_controller_workqueue_depth{queue=\"")
                .append(name).append("\"} ").append(d.getAsInt()).append('\n'));
        return b.toString();
    }
}
