package io.qvirt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** /proc readers and process chores. Memory in kB; CPU in clock ticks. */
final class Procs {
    private Procs() {
    }

    /** A kB figure from /proc/PID/FILE's line starting with {@code key}; NaN if unreadable. */
    static double kb(long pid, String file, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), file))) {
                if (line.startsWith(key)) {
                    return Double.parseDouble(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone or unreadable: NaN tells the table the figure was not measured.
        }
        return Double.NaN;
    }

    static double pssKb(long pid) {
        return kb(pid, "smaps_rollup", "Pss:");
    }

    static double rssKb(long pid) {
        return kb(pid, "status", "VmRSS:");
    }

    /** Fields after "(comm)" of /proc/PID/stat (index 0 = state), or null if the pid is gone. */
    private static String[] statFields(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** utime + stime of the process (all its threads, not its children), in ticks; NaN if gone. */
    static double cpuTicks(long pid) {
        String[] f = statFields(pid);
        return f == null ? Double.NaN : Double.parseDouble(f[11]) + Double.parseDouble(f[12]);
    }

    /**
     * True if the pid no longer runs. A zombie counts as gone: libvirt's QEMU is reparented to this
     * sandbox's PID 1, which reaps only every ~2 s (see the baseline's RESULTS.md, problem 1).
     */
    static boolean goneOrZombie(long pid) {
        String[] f = statFields(pid);
        return f == null || f[0].equals("Z") || f[0].equals("X");
    }

    /** Polls every 2 ms until the pid is gone; returns the nanoTime it was first seen gone. */
    static long awaitGone(long pid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!goneOrZombie(pid)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("pid " + pid + " still running after " + timeout);
            }
            Thread.sleep(2);
        }
        return System.nanoTime();
    }

    static long readPid(Path pidFile) {
        try {
            return Long.parseLong(Files.readString(pidFile).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Kills the process and its descendants, and reaps it. */
    static void kill(Process p) {
        if (p == null) {
            return;
        }
        List<ProcessHandle> desc = p.descendants().toList();
        p.destroyForcibly();
        desc.forEach(ProcessHandle::destroyForcibly);
        try {
            p.waitFor(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void killPid(long pid) {
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Runs a short command to completion; returns its output (stdout+stderr); throws on timeout or failure. */
    static String run(Duration timeout, List<String> cmd) throws IOException, InterruptedException {
        // Output to a file, not a pipe: reading a pipe to its end would wait past the timeout for a hung child.
        Path out = Files.createTempFile("qvirt-bench-cmd", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("timed out after " + timeout + ": " + String.join(" ", cmd));
            }
            String s = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + " from " + String.join(" ", cmd) + ": "
                        + s.strip());
            }
            return s;
        } finally {
            kill(p);
            Files.deleteIfExists(out);
        }
    }

    static List<String> cmd(String... a) {
        return new ArrayList<>(List.of(a));
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // Best effort: a leftover temp file is not worth failing a benchmark for.
                }
            });
        } catch (IOException e) {
            // Same.
        }
    }
}
