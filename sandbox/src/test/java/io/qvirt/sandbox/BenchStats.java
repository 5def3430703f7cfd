package io.qvirt.sandbox;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/** What the rig benchmarks share: quantiles, a markdown row, polling with a deadline. */
final class BenchStats {
    private BenchStats() {
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
