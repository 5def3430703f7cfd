package io.qvirt.kvmprobe.cli;

import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.SmokeResult;
import io.qvirt.kvmprobe.Timings;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The human table: one row per fact, long lists wrapped. */
final class ReportTable {
    private ReportTable() {
    }

    private static final int KEY_WIDTH = 17;
    private static final int WIDTH = 100;

    static void render(ProbeReport r, PrintWriter out) {
        row(out, "verdict", r.verdict().name());
        row(out, "reason", r.reason());
        row(out, "device", r.device() + " (" + r.deviceStatus() + ")");
        row(out, "api version", r.apiVersion() < 0 ? "-" : Integer.toString(r.apiVersion()));
        row(out, "vendor module", r.vendorModule() == null ? "-" : r.vendorModule());
        row(out, "nested", "module parameter " + (r.nestedParameter() == null ? "absent" : r.nestedParameter())
                + "; vmx/svm visible to guests: " + (r.apiVersion() < 0 ? "-" : r.nestedPossible() ? "yes" : "no"));
        row(out, "vcpu mmap size", r.vcpuMmapSize() < 0 ? "-" : Integer.toString(r.vcpuMmapSize()));
        if (!r.capabilities().isEmpty()) {
            List<String> caps = new ArrayList<>();
            for (Map.Entry<String, Integer> e : r.capabilities().entrySet()) {
                caps.add(e.getKey() + "=" + e.getValue());
            }
            wrapped(out, "capabilities", caps);
        }
        if (r.smokeSkipped()) {
            row(out, "smoke", "skipped (--no-smoke)");
        } else if (r.smoke().isEmpty()) {
            row(out, "smoke", "not run");
        }
        for (SmokeResult s : r.smoke()) {
            row(out, "smoke " + s.name(), (s.passed() ? "passed" : "FAILED " + s.outcome())
                    + String.format(" (%.1f ms, %d exits)", s.millis(), s.exits())
                    + (s.passed() ? "" : ": " + s.detail()));
        }
        wrapped(out, "guest features", r.guestCpuFeatures().isEmpty() ? List.of("-") : r.guestCpuFeatures());
        wrapped(out, "host flags", r.hostFlags().isEmpty() ? List.of("-") : r.hostFlags());
        List<String> labels = new ArrayList<>();
        r.nodeLabels().forEach((k, v) -> labels.add(k + "=" + v));
        wrapped(out, "labels", labels);
    }

    static String timingLine(ProbeReport r, double sinceMainMs) {
        Timings t = r.timings();
        return String.format("timings: probe %.1f ms (host info %.1f, native init %.1f, api %.1f, smoke %.1f); "
                        + "command incl. parsing and output %.1f ms; JVM start excluded",
                t.total(), t.hostInfo(), t.nativeInit(), t.api(), t.smoke(), sinceMainMs);
    }

    private static void row(PrintWriter out, String key, String value) {
        out.println(pad(key) + value);
    }

    private static void wrapped(PrintWriter out, String key, List<String> items) {
        StringBuilder line = new StringBuilder(pad(key));
        int start = line.length();
        for (String it : items) {
            if (line.length() > start && line.length() + 1 + it.length() > WIDTH) {
                out.println(line);
                line = new StringBuilder(pad(""));
            }
            if (line.length() > start) {
                line.append(' ');
            }
            line.append(it);
        }
        out.println(line);
    }

    private static String pad(String key) {
        return String.format("%-" + KEY_WIDTH + "s", key);
    }
}
