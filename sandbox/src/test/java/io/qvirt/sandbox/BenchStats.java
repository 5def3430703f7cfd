package io.qvirt.sandbox;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/** What the rig benchmarks share: a fresh rig around the run, quantiles, a markdown row, polling with a deadline. */
final class BenchStats {
    private BenchStats() {
    }

    /** A benchmark's body, given the rig's client and how long {@code qvirt-sandbox up} took. */
    interface RigBody {
        void run(io.fabric8.kubernetes.client.KubernetesClient client, long upMs) throws Exception;
    }

    /**
     * Serves the test guest from the local registry, brings up a fresh rig of {@code nodes} nodes in {@code dir}
     * (a directory left by an earlier run holds an older PKI and logs: it is removed first), runs {@code body}
     * and brings the rig down whatever happened.
     *
     * @return the exit code for the benchmark's {@code main}: 0, or 1 after printing what failed
     */
    static int onFreshRig(java.nio.file.Path dir, int nodes, RigBody body) throws Exception {
        java.nio.file.Path registry = io.qvirt.testdata.TestGuest.projectRoot().resolve("testdata/registry.sh");
        run(registry.toString(), "start");
        run(registry.toString(), "push");
        run(SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
        if (java.nio.file.Files.exists(dir)) {
            try (var files = java.nio.file.Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        long t0 = System.nanoTime();
        run(SandboxIT.BIN.toString(), "up", "--dir", dir.toString(), "--nodes", Integer.toString(nodes));
        long upMs = (System.nanoTime() - t0) / 1_000_000;
        try (io.fabric8.kubernetes.client.KubernetesClient client = SandboxIT.client(dir)) {
            body.run(client, upMs);
            return 0;
        } catch (Throwable t) {
            t.printStackTrace();
            return 1;
        } finally {
            run(SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
        }
    }

    /** Runs a command to its end (5 minutes at most), its output discarded; anything but exit 0 throws. */
    static void run(String... cmd) throws java.io.IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not end within 300 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: exit " + p.exitValue());
        }
    }

    /** Appends {@code | what | p50 | p99 | max |} with {@code decimals} digits; {@code xs} must not be empty. */
    static void row(StringBuilder b, String what, List<Double> xs, int decimals) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        String f = "%." + decimals + "f";
        b.append(String.format(Locale.ROOT, "| %s | " + f + " | " + f + " | " + f + " |%n", what, pct(s, 0.5), pct(s, 0.99),
                s.get(s.size() - 1)));
    }

    /** The nearest-rank quantile {@code q} of an ascending, non-empty list. */
    static double pct(List<Double> sorted, double q) {
        int i = (int) Math.min(sorted.size() - 1, Math.max(0, Math.ceil(q * sorted.size()) - 1));
        return sorted.get(i);
    }

    /** Polls {@code value} every 20 ms until it is non-null (a runtime exception counts as null) or the timeout. */
    static <T> T await(java.time.Duration timeout, String what, Supplier<T> value) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T t;
            try {
                t = value.get();
            } catch (RuntimeException e) {
                t = null;
            }
            if (t != null) {
                return t;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
