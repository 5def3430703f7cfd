package io.qvirt.apiserver;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Request counts and durations per route and code, in Prometheus' text format ({@code /metrics}). */
final class Metrics {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> micros = new ConcurrentHashMap<>();
    private final LongAdder consoles = new LongAdder();

    void record(String route, int code, long nanos) {
        counts.computeIfAbsent(route + "\u0000" + code, k -> new LongAdder()).increment();
        micros.computeIfAbsent(route, k -> new LongAdder()).add(nanos / 1000);
    }

    void consoleOpened() {
        consoles.increment();
    }

    long count(String route, int code) {
        LongAdder a = counts.get(route + "\u0000" + code);
        return a == null ? 0 : a.sum();
    }

    String render() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP virt_api_requests_total Requests served, by route and HTTP code.\n")
                .append("# TYPE virt_api_requests_total counter\n");
        new java.util.TreeMap<>(counts).forEach((k, v) -> {
            String[] p = k.split("\u0000");
            b.append("virt_api_requests_total{route=\"").append(p[0]).append("\",code=\"").append(p[1]).append("\"} ")
                    .append(v.sum()).append('\n');
        });
        b.append("# HELP virt_api_request_seconds_sum Time spent serving requests, by route.\n")
                .append("# TYPE virt_api_request_seconds_sum counter\n");
        new java.util.TreeMap<>(micros).forEach((k, v) -> b.append("virt_api_request_seconds_sum{route=\"").append(k)
                .append("\"} ").append(v.sum() / 1e6).append('\n'));
        b.append("# HELP virt_api_console_connections_total Console WebSockets relayed.\n")
                .append("# TYPE virt_api_console_connections_total counter\n")
                .append("virt_api_console_connections_total ").append(consoles.sum()).append('\n');
        return b.toString();
    }
}
