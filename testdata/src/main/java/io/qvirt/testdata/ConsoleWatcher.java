package io.qvirt.testdata;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Collects everything a guest prints (a serial console stream) on a daemon thread and lets tests wait
 * for a pattern. Text is kept whole, so a pattern is found even when it arrives split across reads;
 * {@link #await} searches from a cursor, so the same marker printed twice is seen twice. Each read is
 * stamped with {@link System#nanoTime()} as it arrives, so {@link #awaitTimed} tells when a match was
 * complete on the stream, however late the caller looks (benchmarks time boot markers with it).
 */
public final class ConsoleWatcher implements AutoCloseable {
    private final StringBuilder text = new StringBuilder();
    private final Thread reader;
    private final InputStream in;
    private boolean eof;
    private int cursor;
    /** Per read: the text length after it, and its arrival time; parallel arrays grown by doubling. */
    private int[] chunkEnds = new int[64];
    private long[] chunkNanos = new long[64];
    private int chunks;

    /** A match and the {@link System#nanoTime()} at which its last character was read. */
    public record TimedMatch(MatchResult match, long nanoTime) {
    }

    /** Starts reading {@code in} until end of stream; {@code name} names the thread. */
    public ConsoleWatcher(InputStream in, String name) {
        this.in = in;
        this.reader = new Thread(this::pump, "console-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    private void pump() {
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                long now = System.nanoTime();
                String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                synchronized (this) {
                    text.append(s);
                    if (chunks == chunkEnds.length) {
                        chunkEnds = Arrays.copyOf(chunkEnds, chunks * 2);
                        chunkNanos = Arrays.copyOf(chunkNanos, chunks * 2);
                    }
                    chunkEnds[chunks] = text.length();
                    chunkNanos[chunks++] = now;
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // The stream closed under us: same as end of stream for a test.
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    /**
     * Waits until {@code pattern} appears after the cursor, then moves the cursor past the match.
     *
     * @return the match
     * @throws TimeoutException naming the pattern and the text seen so far, on timeout or end of stream
     */
    public synchronized Matcher await(Pattern pattern, Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(text);
            if (m.find(cursor)) {
                cursor = m.end();
                return m;
            }
            long left = deadline - System.nanoTime();
            if (eof || left <= 0) {
                throw new TimeoutException((eof ? "console closed" : "timed out after " + timeout)
                        + " waiting for /" + pattern + "/; console so far:\n" + tail(4000));
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * As {@link #await}, and also returns when the match's last character arrived on the stream.
     */
    public synchronized TimedMatch awaitTimed(Pattern pattern, Duration timeout)
            throws TimeoutException, InterruptedException {
        Matcher m = await(pattern, timeout);
        return new TimedMatch(m.toMatchResult(), arrival(m.end() - 1));
    }

    /** The arrival time of the read that delivered the character at {@code offset}. */
    private long arrival(int offset) {
        int lo = 0;
        int hi = chunks - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (chunkEnds[mid] > offset) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return chunkNanos[lo];
    }

    /** Waits for end of stream (the guest's console closed), up to {@code timeout}. */
    public synchronized boolean awaitEof(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!eof) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** Everything read so far. */
    public synchronized String text() {
        return text.toString();
    }

    /** Lines read so far. */
    public synchronized List<String> lines() {
        return new ArrayList<>(List.of(text.toString().split("\r?\n")));
    }

    private String tail(int max) {
        return text.length() <= max ? text.toString() : text.substring(text.length() - max);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
