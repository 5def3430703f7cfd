package io.qvirt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.time.Instant;

/**
 * Scenario 8, live migration on one machine (issue 19): one running guest of 128 MiB moved to a second QEMU,
 * idle and while a busybox loop dirties memory, by three contenders booting the same guest the same way:
 *
 * <ul>
 *   <li>floor: two raw QEMUs with qvirt's rendered device set, the source under the raw supervisor, the
 *       target started with {@code -incoming unix:...} and the migration driven by bench/scripts/raw-migrate
 *       (a minimal QMP script: migrate, poll query-migrate, quit);</li>
 *   <li>qvirt: {@code launcher exec --autostart}, then {@code launcher migrate NAME --to-runtime-root DIR
 *       --json}, timed as a user runs it (JVM start included);</li>
 *   <li>libvirt: {@code virsh migrate --live} between two libvirt daemons on this machine (see
 *       {@link LibvirtPeer}), when they can be had.</li>
 * </ul>
 *
 * <p>Per run: the command's whole time, QEMU's total-time and downtime (the source's {@code query-migrate}; for
 * libvirt {@code domjobinfo --completed}), RAM bytes sent, and the guest-side gap: the largest interval between two
 * consecutive lines of a ticker the guest prints on its serial console about every 10 ms, stamped when the host
 * reads them from the console log(s).
 */
final class MigrationBench {
    enum Contender {
        FLOOR("floor (raw QEMU + QMP script)"), QVIRT("qvirt (`launcher migrate`)"), LIBVIRT("libvirt (`virsh migrate --live`)");

        final String label;

        Contender(String label) {
            this.label = label;
        }
    }

    enum Workload {
        IDLE("idle"), DIRTY("dirtying " + MigrationBench.DIRTY_MIB + " MiB in a loop");

        final String label;

        Workload(String label) {
            this.label = label;
        }
    }

    /** The dirtying loop rewrites this much of the guest's RAM (a tmpfs file), again and again. */
    static final int DIRTY_MIB = 32;
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration MIGRATE_TIMEOUT = Duration.ofMinutes(5);
    /** After the command returns, ticks are collected this long so the target's first lines are in. */
    private static final Duration AFTER = Duration.ofMillis(1500);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HOOK = Pattern.compile("^migrate: switchover: .*continued after (\\d+) ms");
    private static final Pattern LOG = Pattern.compile("\"timestamp\":\"([^\"]+)\".*?\"msg\":\"([^\"]*)");
    /** The ticker: a line every ~10 ms with a sequence number and the guest's uptime (shell builtins but usleep). */
    private static final String TICKER = "(i=0; while :; do read u r </proc/uptime; echo \"QT $i $u\"; i=$((i+1)); "
            + "usleep 10000; done) &\n";
    private static final String DIRTY = "dd if=/dev/urandom of=/tmp/qd-src bs=1M count=" + DIRTY_MIB + " 2>/dev/null; "
            + "(while :; do dd if=/tmp/qd-src of=/tmp/qd-dst bs=1M conv=notrunc 2>/dev/null; done) & echo QD-READY\n";

    /** Figure keys, in table order: key, row name, format. */
    static final String[][] FIGURES = {
        {"cmd", "whole command: start -> returned, target running (ms)", "%.0f"},
        {"total", "QEMU total-time (ms)", "%.0f"},
        {"downtime", "QEMU downtime (ms)", "%.0f"},
        {"gap", "guest-side gap: largest interval between console ticks (ms)", "%.0f"},
        {"guestClock", "the guest's own clock across that gap (ms)", "%.0f"},
        {"lost", "guest pause from the console: max(tick interval - guest clock interval) (ms)", "%.0f"},
        {"tick", "ticker period meanwhile, median (ms)", "%.1f"},
        {"mib", "RAM sent (MiB)", "%.1f"},
        {"passes", "passes over RAM", "%.0f"},
        {"toReady", "qvirt: command start -> its first log line (JVM start, options read) (ms)", "%.0f"},
        {"toMigrate", "qvirt: command start -> `migrate` sent (+ target planned, started, QMP set up) (ms)", "%.0f"},
        {"hook", "qvirt: its pre-switchover step (source stopped, console log carried over -> migrate-continue) (ms)",
            "%.0f"},
        {"afterDone", "qvirt: QEMU completed -> command returned (target cont, source quit and gone) (ms)", "%.0f"},
    };

    private final Ctx ctx;
    private final int n;
    private final LibvirtPeer libvirt;
    private final List<Contender> contenders = new ArrayList<>();
    /** Contender -> workload -> samples. */
    final Map<Contender, Map<Workload, List<Map<String, Double>>>> samples = new EnumMap<>(Contender.class);
    final List<String> failures = new ArrayList<>();

    MigrationBench(Ctx ctx, int n, LibvirtPeer libvirt) {
        this.ctx = ctx;
        this.n = n;
        this.libvirt = libvirt;
        contenders.add(Contender.FLOOR);
        contenders.add(Contender.QVIRT);
        if (libvirt != null) {
            contenders.add(Contender.LIBVIRT);
        }
    }

    List<Contender> contenders() {
        return contenders;
    }

    /** One discarded warm-up migration per contender, then n rounds; each round every contender and workload once. */
    void run() throws Exception {
        for (Contender c : contenders) {
            System.err.println("bench: migration warm-up, " + c.label);
            try {
                once(c, Workload.IDLE, "w");
            } catch (Exception e) {
                fail("migration warm-up, " + c.label, e);
            }
        }
        for (int i = 0; i < n; i++) {
            for (Workload w : Workload.values()) {
                for (int j = 0; j < contenders.size(); j++) {
                    Contender c = contenders.get((i + j) % contenders.size());
                    try {
                        Map<String, Double> v = once(c, w, Integer.toString(i));
                        samples.computeIfAbsent(c, x -> new EnumMap<>(Workload.class))
                                .computeIfAbsent(w, x -> new ArrayList<>()).add(v);
                        System.err.println("bench: migration " + (i + 1) + "/" + n + " " + c.label + ", " + w.label
                                + ": " + v);
                    } catch (Exception e) {
                        fail("migration round " + (i + 1) + ", " + c.label + ", " + w.label, e);
                    }
                }
            }
        }
    }

    private void fail(String what, Exception e) {
        String msg = what + " FAILED, left out: " + e;
        System.err.println("bench: " + msg);
        e.printStackTrace();
        failures.add(msg.length() > 600 ? msg.substring(0, 600) + "..." : msg);
    }

    /** One migration of a freshly booted guest; returns its figures. */
    private Map<String, Double> once(Contender c, Workload w, String tag) throws Exception {
        String name = ("mig-" + c.name().charAt(0) + w.name().charAt(0) + "-" + tag).toLowerCase(Locale.ROOT);
        Path dir = ctx.work().resolve(name);
        Procs.deleteTree(dir);
        Files.createDirectories(dir);
        try (Guest g = switch (c) {
            case FLOOR -> new FloorGuest(name, dir);
            case QVIRT -> new QvirtGuest(name, dir);
            case LIBVIRT -> libvirt.guest(ctx, name, dir);
        }) {
            g.start();
            try (ConsoleWatcher con = new ConsoleWatcher(new FileFollower(g.sourceLog()), name);
                 ConsoleTicks ticks = new ConsoleTicks()) {
                con.await(GuestMarkers.PROMPT_PATTERN, BOOT);
                ticks.follow(g.sourceLog(), name + "-src");
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(g.sourceConsole()));
                    // QEMU sends a connected client every byte (one socket buffer each): read them, or it stalls the
                    // guest's console once the socket is full. The console log is what is measured.
                    Thread drain = new Thread(() -> {
                        ByteBuffer b = ByteBuffer.allocate(4096);
                        try {
                            while (ch.read(b.clear()) >= 0) {
                                // Discarded.
                            }
                        } catch (IOException e) {
                            // Closed.
                        }
                    }, "console-drain-" + name);
                    drain.setDaemon(true);
                    drain.start();
                    if (w == Workload.DIRTY) {
                        type(ch, DIRTY);
                        ticks.awaitLine("QD-READY", Duration.ofSeconds(120));
                    }
                    long since = System.nanoTime();
                    type(ch, TICKER);
                    ticks.awaitTicks(20, since, Duration.ofSeconds(60));
                }
                // Steady state: the ticker and (dirty) the loop have run a while.
                Thread.sleep(w == Workload.DIRTY ? 3000 : 1000);
                ticks.follow(g.targetLog(), name + "-dst");
                Clock start = Clock.now();
                long t0 = start.nanos();
                Map<String, Double> v = new LinkedHashMap<>(g.migrate());
                long t1 = System.nanoTime();
                g.phases(start, t1, v);
                v.put("cmd", (t1 - t0) / 1e6);
                Thread.sleep(AFTER.toMillis());
                ConsoleTicks.Gap gap = ticks.gap(t0, t1 + AFTER.toNanos());
                if (gap.ticks() < 10) {
                    throw new IllegalStateException("only " + gap.ticks() + " console ticks around the migration: "
                            + "the guest's console did not go on on the target");
                }
                v.put("gap", gap.gapMs());
                v.put("tick", gap.medianMs());
                v.put("guestClock", gap.guestMs());
                v.put("lost", gap.lostMs());
                v.put("missingTicks", (double) gap.missing());
                return v;
            }
        }
    }

    /** Types into the serial console slowly enough for a 16550 under TCG (the guest echoes every byte). */
    private static void type(SocketChannel ch, String text) throws IOException, InterruptedException {
        for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
            ch.write(ByteBuffer.wrap(new byte[] {b}));
            Thread.sleep(1);
        }
    }

    /** One contender's guest: started untimed, then migrated once (timed by the caller). */
    abstract static class Guest implements AutoCloseable {
        abstract void start() throws Exception;

        abstract Path sourceLog();

        abstract Path sourceConsole();

        /** The target's console log (may not exist before the migration). */
        abstract Path targetLog();

        /** Migrates; returns QEMU's figures: total, downtime, mib, passes. */
        abstract Map<String, Double> migrate() throws Exception;

        /** Adds where the command's time went, if the contender says (qvirt's log). */
        void phases(Clock start, long endNanos, Map<String, Double> v) {
        }
    }

    /**
     * A guest whose source and target each have a directory of their own, holding {@code console.log} (and the
     * source's {@code console.sock}): the floor's and libvirt's.
     */
    abstract static class DirGuest extends Guest {
        final Path src;
        final Path dst;

        DirGuest(Path dir) throws IOException {
            this.src = Files.createDirectories(dir.resolve("src"));
            this.dst = Files.createDirectories(dir.resolve("dst"));
        }

        @Override
        Path sourceLog() {
            return src.resolve("console.log");
        }

        @Override
        Path sourceConsole() {
            return src.resolve("console.sock");
        }

        @Override
        Path targetLog() {
            return dst.resolve("console.log");
        }
    }

    static Map<String, Double> figures(double totalMs, double downtimeMs, double bytes, double passes) {
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("total", totalMs);
        v.put("downtime", downtimeMs);
        v.put("mib", bytes / 1048576.0);
        v.put("passes", passes);
        return v;
    }

    /** Runs a command to completion within {@link #MIGRATE_TIMEOUT}; returns its stdout; stderr to {@code err}. */
    static String runMigrate(List<String> cmd, Map<String, String> env, Path err) throws Exception {
        Path out = Files.createTempFile(err.getParent(), "out", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            if (!p.waitFor(MIGRATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("timed out after " + MIGRATE_TIMEOUT + ": " + String.join(" ", cmd));
            }
            String s = Files.readString(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + " from " + String.join(" ", cmd) + ": " + s
                        + " " + tail(err));
            }
            return s;
        } finally {
            Procs.kill(p);
        }
    }

    static String tail(Path f) {
        try {
            String s = Files.readString(f);
            return s.length() <= 1500 ? s : s.substring(s.length() - 1500);
        } catch (IOException e) {
            return "";
        }
    }

    /** The floor: raw QEMU under the raw supervisor, moved by bench/scripts/raw-migrate. */
    private final class FloorGuest extends DirGuest {
        private final String name;
        private final Path disk;
        private Process supervisor;
        private long targetPid = -1;

        FloorGuest(String name, Path dir) throws Exception {
            super(dir);
            this.name = name;
            this.disk = ctx.overlay(dir.resolve("disk.qcow2"));
        }

        @Override
        void start() throws Exception {
            List<String> c = new ArrayList<>(List.of(ctx.supervisor().toString(), src.toString(), ctx.wrapper().toString()));
            c.addAll(ctx.rawArgv(name, disk, src, true));
            supervisor = new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(src.resolve("supervisor.log")
                    .toFile()).start();
        }

        @Override
        Map<String, Double> migrate() throws Exception {
            // The target: the same argv in its own directory, its owner monitor a socket nobody uses (the script
            // drives both QEMUs over their qmp.sock, as launcher migrate does), and no -S: it runs the guest as
            // soon as the state is in.
            List<String> argv = new ArrayList<>();
            for (String a : ctx.rawArgv(name, disk, dst, true)) {
                if (a.startsWith("pipe,id=qmp-owner,")) {
                    a = "socket,id=qmp-owner,path=" + dst.resolve("qmp-owner.sock") + ",server=on,wait=off";
                }
                if (!a.equals("-S")) {
                    argv.add(a);
                }
            }
            List<String> c = new ArrayList<>(List.of("/usr/bin/python3",
                    ctx.root().resolve("bench/scripts/raw-migrate").toString(), src.resolve("qmp.sock").toString(),
                    dst.resolve("qmp.sock").toString(), dst.resolve("mig.sock").toString(),
                    dst.resolve("qemu.err").toString(), "--", ctx.wrapper().toString()));
            c.addAll(argv);
            String out = runMigrate(c, Map.of(), dst.resolve("raw-migrate.err"));
            JsonNode j = JSON.readTree(out.strip().lines().reduce((a, b) -> b).orElse("{}"));
            targetPid = j.path("targetPid").asLong(-1);
            return figures(j.path("totalMs").asDouble(), j.path("downtimeMs").asDouble(),
                    j.path("ramTransferredBytes").asDouble(), j.path("passes").asDouble());
        }

        @Override
        public void close() {
            Procs.killPid(targetPid);
            Procs.kill(supervisor);
        }
    }

    /** qvirt: `launcher exec --autostart`, moved by `launcher migrate --to-runtime-root`. */
    private final class QvirtGuest extends Guest {
        private final String name;
        private final Path dir;
        private final Path yaml;
        private Process exec;
        private long targetPid = -1;

        QvirtGuest(String name, Path dir) throws Exception {
            this.name = name;
            this.dir = dir;
            Path disk = ctx.overlay(dir.resolve("disk.qcow2"));
            this.yaml = ctx.vmYaml(name, disk, dir);
        }

        private Path srcRoot() {
            return dir.resolve("rt");
        }

        private Path dstRoot() {
            return dir.resolve("rt2");
        }

        @Override
        void start() throws Exception {
            ProcessBuilder pb = new ProcessBuilder(ctx.launcher().toString(), "exec", yaml.toString(), "--accel", "tcg",
                    "--autostart", "--runtime-root", srcRoot().toString());
            pb.environment().put("QVIRT_QEMU", ctx.wrapper().toString());
            exec = pb.redirectErrorStream(true).redirectOutput(dir.resolve("exec.log").toFile()).start();
        }

        @Override
        Path sourceLog() {
            return srcRoot().resolve("default").resolve(name).resolve("console.log");
        }

        @Override
        Path sourceConsole() {
            return srcRoot().resolve("default").resolve(name).resolve("console.sock");
        }

        @Override
        Path targetLog() {
            return dstRoot().resolve("default").resolve(name).resolve("console.log");
        }

        @Override
        Map<String, Double> migrate() throws Exception {
            String out = runMigrate(List.of(ctx.launcher().toString(), "--log-format=json", "migrate", name, "--runtime-root",
                    srcRoot().toString(), "--to-runtime-root", dstRoot().toString(), "--json"),
                    Map.of("QVIRT_QEMU", ctx.wrapper().toString()), dir.resolve("migrate.err"));
            JsonNode j = JSON.readTree(out.strip().lines().reduce((a, b) -> b).orElse("{}"));
            targetPid = j.path("targetPid").asLong(-1);
            Map<String, Double> v = figures(j.path("totalMs").asDouble(), j.path("downtimeMs").asDouble(),
                    j.path("ramTransferredBytes").asDouble(), j.path("passes").asDouble());
            v.put("startMs", j.path("startMs").asDouble());
            return v;
        }

        /**
         * From migrate's JSON log: when it sent {@code migrate} (its first progress line, pass 1, comes just after)
         * and when QEMU reported completed.
         */
        @Override
        void phases(Clock start, long endNanos, Map<String, Double> v) {
            Double ready = null;
            Double first = null;
            Double done = null;
            List<String> lines;
            try {
                lines = Files.readAllLines(dir.resolve("migrate.err"));
            } catch (IOException e) {
                return;
            }
            for (String l : lines) {
                Matcher m = LOG.matcher(l);
                if (!m.find()) {
                    continue;
                }
                double at = start.msAtEpochMicros(Clock.epochMicros(Instant.parse(m.group(1))));
                if (ready == null) {
                    ready = at;
                }
                if (first == null && m.group(2).startsWith("migrate: active")) {
                    first = at;
                }
                if (m.group(2).startsWith("migrate: completed")) {
                    done = at;
                }
                Matcher h = HOOK.matcher(m.group(2));
                if (h.find()) {
                    v.put("hook", Double.parseDouble(h.group(1)));
                }
            }
            if (ready != null) {
                v.put("toReady", ready);
            }
            if (first != null) {
                v.put("toMigrate", first);
            }
            if (done != null) {
                v.put("afterDone", start.msAtNanos(endNanos) - done);
            }
        }

        @Override
        public void close() {
            Procs.killPid(targetPid);
            Procs.kill(exec);
        }
    }

    // ---------------------------------------------------------------- report

    /** p-th percentile, nearest rank (p90 of 5 samples is the largest). */
    static double percentile(List<Double> xs, double p) {
        List<Double> s = xs.stream().filter(d -> d != null && !d.isNaN()).sorted().toList();
        if (s.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    List<Double> values(Contender c, Workload w, String key) {
        List<Double> out = new ArrayList<>();
        for (Map<String, Double> v : samples.getOrDefault(c, Map.of()).getOrDefault(w, List.of())) {
            Double x = v.get(key);
            out.add(x == null ? Double.NaN : x);
        }
        return out;
    }

    double median(Contender c, Workload w, String key) {
        return percentile(values(c, w, key), 50);
    }

    /** The markdown tables, one per workload: median / p90 per contender, and the ratios of medians to the floor. */
    String table(String libvirtWhy) {
        StringBuilder sb = new StringBuilder();
        for (Workload w : Workload.values()) {
            sb.append("\n### 8. live migration on one machine, 128 MiB guest, ").append(w.label)
                    .append(" (median / p90, n=").append(n).append(")\n\n| figure |");
            for (Contender c : Contender.values()) {
                sb.append(' ').append(c.label).append(" |");
            }
            sb.append(" qvirt/floor | libvirt/floor |\n|---|---:|---:|---:|---:|---:|\n");
            for (String[] f : FIGURES) {
                sb.append("| ").append(f[1]).append(" |");
                for (Contender c : Contender.values()) {
                    if (c == Contender.LIBVIRT && libvirt == null) {
                        sb.append(" unavailable |");
                        continue;
                    }
                    List<Double> xs = values(c, w, f[0]);
                    long k = xs.stream().filter(d -> !d.isNaN()).count();
                    sb.append(' ').append(k == 0 ? "-" : String.format(Locale.ROOT, f[2] + " / " + f[2],
                            percentile(xs, 50), percentile(xs, 90)) + (k < n ? " (n=" + k + ")" : "")).append(" |");
                }
                for (Contender c : List.of(Contender.QVIRT, Contender.LIBVIRT)) {
                    double r = median(c, w, f[0]) / median(Contender.FLOOR, w, f[0]);
                    sb.append(' ').append(Double.isNaN(r) || Double.isInfinite(r) ? "" : String.format(Locale.ROOT,
                            "%.2f", r)).append(" |");
                }
                sb.append('\n');
            }
        }
        if (libvirt == null) {
            sb.append("\nlibvirt: ").append(libvirtWhy).append('\n');
        }
        return sb.toString();
    }

    /** Issue 19's target: qvirt within 10% of the floor's total time and downtime (medians). */
    String targets() {
        StringBuilder sb = new StringBuilder();
        for (Workload w : Workload.values()) {
            for (String[] f : List.of(new String[] {"total", "QEMU total-time"}, new String[] {"downtime", "QEMU downtime"},
                    new String[] {"cmd", "whole command"}, new String[] {"gap", "guest-side gap"})) {
                double q = median(Contender.QVIRT, w, f[0]);
                double fl = median(Contender.FLOOR, w, f[0]);
                double r = q / fl;
                boolean target = f[0].equals("total") || f[0].equals("downtime");
                String verdict = Double.isNaN(r) ? "not measured" : !target ? "reported, no target"
                        : r <= 1.10 ? "met" : "NOT met";
                sb.append(String.format(Locale.ROOT, "- migration, %s: %s qvirt %.0f ms vs floor %.0f ms = %.2fx%s: **%s**%n",
                        w.label, f[1], q, fl, r, target ? " (target <= 1.10x)" : "", verdict));
            }
        }
        return sb.toString();
    }

    Map<String, Object> json() {
        Map<String, Object> out = new LinkedHashMap<>();
        samples.forEach((c, m) -> {
            Map<String, Object> byW = new LinkedHashMap<>();
            m.forEach((w, l) -> byW.put(w.name().toLowerCase(Locale.ROOT), l));
            out.put(c.name().toLowerCase(Locale.ROOT), byW);
        });
        return out;
    }
}
