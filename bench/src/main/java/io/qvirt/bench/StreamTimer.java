package io.qvirt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Reads a process's output stream on a daemon thread and records the {@link System#nanoTime()} at which
 * each watched pattern first appeared, so waiting for one marker never delays timing another.
 */
final class StreamTimer implements AutoCloseable {
    private final InputStream in;
    private final StringBuilder text = new StringBuilder();
    private final Map<Pattern, Long> seen = new LinkedHashMap<>();
    private boolean eof;

    StreamTimer(InputStream in, String name, Pattern... watch) {
        this.in = in;
        for (Pattern p : watch) {
            seen.put(p, null);
        }
        Thread t = new Thread(this::pump, "timer-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void pump() {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                long now = System.nanoTime();
                String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                synchronized (this) {
                    text.append(s);
                    for (Map.Entry<Pattern, Long> e : seen.entrySet()) {
                        if (e.getValue() == null && e.getKey().matcher(text).find()) {
                            e.setValue(now);
                        }
                    }
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // closed under us
        } finally {
            synchronized (this) {
                eof = true;
                notifyAll();
            }
        }
    }

    /** The nanoTime at which {@code p} (one of the watched patterns) appeared; waits up to {@code timeout}. */
    synchronized long await(Pattern p, Duration timeout, Process proc) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Long t = seen.get(p);
            if (t != null) {
                return t;
            }
            long left = deadline - System.nanoTime();
            if (eof || left <= 0) {
                throw new TimeoutException((eof ? "stream closed" : "timed out") + " waiting for /" + p
                        + "/; last output:\n" + tail());
            }
            wait(Math.max(1, Math.min(200, left / 1_000_000)));
        }
    }

    synchronized String text() {
        return text.toString();
    }

    private String tail() {
        return text.length() <= 3000 ? text.toString() : text.substring(text.length() - 3000);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
