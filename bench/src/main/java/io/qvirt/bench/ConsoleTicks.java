package io.qvirt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest's console ticker as the host sees it: the guest prints {@code QT <seq> <uptime>} lines (a busybox
 * loop, about every 10 ms), and each line is stamped with {@link System#nanoTime()} when it is read from the
 * console log. Several logs can feed one instance (a migration's source and target): a sequence number keeps
 * its first arrival, so the target's copy of the source's log counts nothing twice. Whole lines only; the
 * echo of the typed command never matches (the pattern is the whole line).
 */
final class ConsoleTicks implements AutoCloseable {
    private static final Pattern TICK = Pattern.compile("QT (\\d+) (\\d+\\.\\d+)");

    /** seq -> {arrival nanoTime, guest uptime in ms}. */
    private final TreeMap<Long, double[]> ticks = new TreeMap<>();
    private final Map<String, Long> wholeLines = new HashMap<>();
    private final List<FileFollower> followers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    /** Starts following {@code log} (which may not exist yet) until {@link #close}. */
    void follow(Path log, String name) {
        FileFollower f = new FileFollower(log);
        followers.add(f);
        Thread t = new Thread(() -> pump(f), "ticks-" + name);
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    private void pump(InputStream in) {
        byte[] buf = new byte[8192];
        StringBuilder line = new StringBuilder();
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                long now = System.nanoTime();
                String s = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '\n') {
                        try {
                            line(line.toString().replace("\r", ""), now);
                        } catch (RuntimeException e) {
                            // A garbled line is no tick; the next one is read all the same.
                        }
                        line.setLength(0);
                    } else {
                        line.append(c);
                    }
                }
            }
        } catch (IOException e) {
            // The log went away (closed): nothing more to read.
        }
    }

    private synchronized void line(String l, long now) {
        Matcher m = TICK.matcher(l);
        // A line garbled on the serial line (two writers at once: the shell's prompt and the ticker) does not match.
        if (m.matches() && m.group(1).length() < 12) {
            ticks.putIfAbsent(Long.parseLong(m.group(1)), new double[] {now, Double.parseDouble(m.group(2)) * 1000});
        } else {
            wholeLines.putIfAbsent(l, now);
        }
        notifyAll();
    }

    /** Waits until a line equal to {@code whole} was read; returns its arrival nanoTime. */
    synchronized long awaitLine(String whole, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!wholeLines.containsKey(whole)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("no console line '" + whole + "' within " + timeout);
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return wholeLines.get(whole);
    }

    /** Waits until {@code count} ticks have arrived after {@code sinceNanos}. */
    synchronized void awaitTicks(int count, long sinceNanos, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ticks.values().stream().filter(t -> t[0] >= sinceNanos).count() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("the guest's console ticker printed fewer than " + count
                        + " lines within " + timeout);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * The ticks that arrived in [fromNanos, toNanos], as consecutive received pairs.
     *
     * @param gapMs          the largest interval between two consecutive ticks' arrivals
     * @param guestMs        the guest's own uptime advance across that same pair
     * @param lostMs         the largest (arrival interval - guest uptime interval) over the pairs: time that passed
     *                       for the host but not for the guest, whose clock stands still while its CPUs are stopped
     *                       (the guest prints uptime with 10 ms resolution); a guest that is running but slow to
     *                       print (its own scheduling) adds nothing here, unlike to gapMs
     * @param medianMs       the median interval (the ticker's own period under this load)
     * @param ticks          ticks in the window
     * @param missing        sequence numbers never seen between the first and last in the window
     */
    record Gap(double gapMs, double guestMs, double lostMs, double medianMs, int ticks, long missing) {
    }

    synchronized Gap gap(long fromNanos, long toNanos) {
        List<Map.Entry<Long, double[]>> in = ticks.entrySet().stream()
                .filter(e -> e.getValue()[0] >= fromNanos && e.getValue()[0] <= toNanos).toList();
        if (in.size() < 2) {
            return new Gap(Double.NaN, Double.NaN, Double.NaN, Double.NaN, in.size(), 0);
        }
        double max = -1;
        double guest = Double.NaN;
        double lost = Double.NEGATIVE_INFINITY;
        List<Double> intervals = new ArrayList<>();
        for (int i = 1; i < in.size(); i++) {
            double d = (in.get(i).getValue()[0] - in.get(i - 1).getValue()[0]) / 1e6;
            intervals.add(d);
            lost = Math.max(lost, d - (in.get(i).getValue()[1] - in.get(i - 1).getValue()[1]));
            if (d > max) {
                max = d;
                guest = in.get(i).getValue()[1] - in.get(i - 1).getValue()[1];
            }
        }
        long missing = in.get(in.size() - 1).getKey() - in.get(0).getKey() + 1 - in.size();
        return new Gap(max, guest, lost, Mmm.of(intervals).median(), in.size(), missing);
    }

    @Override
    public void close() {
        for (FileFollower f : followers) {
            try {
                f.close();
            } catch (IOException e) {
                // Closing a follower only stops its polling.
            }
        }
        for (Thread t : threads) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
