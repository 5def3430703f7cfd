package io.qvirt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qvirt.qmp.bench.QmpBench;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.Qemu;
import io.qvirt.testdata.RawQmp;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Side-by-side benchmarks: qvirt's QMP client vs a raw socket loop, {@code launcher run} vs raw QEMU
 * started from Java, {@code launcher exec} memory, and kvm-probe timings. Always TCG. Prints markdown
 * tables and writes {@code bench/results/<UTC date-time>.json}.
 */
public final class BenchMain {
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);
    private static final String VM = "bench1";

    private final boolean quick;
    private final int n;
    private final Path root;
    private final Path work;
    private final TestGuest guest;
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final StringBuilder out = new StringBuilder();

    private BenchMain(boolean quick) throws IOException {
        this.quick = quick;
        this.n = quick ? 3 : 10;
        this.root = TestGuest.projectRoot();
        this.guest = TestGuest.get();
        this.work = Files.createTempDirectory("qvirt-bench");
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        for (String a : args) {
            if (a.equals("--quick")) {
                quick = true;
            } else {
                System.err.println("usage: qvirt-bench [--quick]");
                System.exit(2);
            }
        }
        BenchMain b = new BenchMain(quick);
        try {
            b.runAll();
        } finally {
            deleteTree(b.work);
        }
        System.exit(0);
    }

    private void runAll() throws Exception {
        String started = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        json.put("startedUtc", started);
        json.put("mode", quick ? "quick" : "default");
        json.put("runs", n);
        json.put("accelerator", "tcg");
        json.put("cpus", Runtime.getRuntime().availableProcessors());
        json.put("qemu", Qemu.binary().toString());
        emit("# qvirt bench (" + (quick ? "quick" : "default") + ", n=" + n + ", accelerator: TCG (-accel tcg) always, "
                + Runtime.getRuntime().availableProcessors() + " CPUs)\n");
        emit("Figures are min / median / max over the runs.\n");

        qmpBench();
        launchBench();
        execBench();
        kvmProbeBench();

        Path dir = root.resolve("bench/results");
        Files.createDirectories(dir);
        Path file = dir.resolve(started + ".json");
        Path tmp = dir.resolve(started + ".json.tmp");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), json);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        emit("\nResults written to " + root.relativize(file) + "\n");
    }

    // ---------------------------------------------------------------- 1. QMP round trips

    private void qmpBench() throws Exception {
        int cmds = quick ? 2_000 : 20_000;
        Path sock = work.resolve("qmpbench.sock");
        Process qemu = new ProcessBuilder(Qemu.binary().toString(), "-S", "-nodefaults", "-no-user-config",
                "-display", "none", "-accel", "tcg", "-m", "128",
                "-chardev", "socket,id=qmp,path=" + sock + ",server=on,wait=off", "-mon", "chardev=qmp,mode=control")
                .redirectErrorStream(true).redirectOutput(work.resolve("qmpbench.log").toFile()).start();
        Map<String, List<QmpBench.Stats>> byRow = new LinkedHashMap<>();
        try {
            waitFor(() -> Files.exists(sock), qemu, Duration.ofSeconds(15), "QEMU QMP socket");
            for (int i = 0; i < n; i++) {
                for (QmpBench.Stats s : QmpBench.run(sock, cmds).rows()) {
                    byRow.computeIfAbsent(s.name() + "|" + s.inFlight(), k -> new ArrayList<>()).add(s);
                }
            }
        } finally {
            kill(qemu);
        }
        emit("\n## 1. QMP `query-status` round trips (one paused QEMU, " + cmds + " commands per row, " + n
                + " runs)\n\n");
        emit("| path | in flight | p50 (us) | p99 (us) | commands/s |\n|---|---:|---:|---:|---:|\n");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var e : byRow.entrySet()) {
            List<QmpBench.Stats> l = e.getValue();
            Mmm p50 = Mmm.of(l.stream().map(QmpBench.Stats::p50Micros).toList());
            Mmm p99 = Mmm.of(l.stream().map(QmpBench.Stats::p99Micros).toList());
            Mmm rate = Mmm.of(l.stream().map(QmpBench.Stats::perSecond).toList());
            emit("| " + l.get(0).name() + " | " + l.get(0).inFlight() + " | " + p50.fmt("%.1f") + " | "
                    + p99.fmt("%.1f") + " | " + rate.fmt("%.0f") + " |\n");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("path", l.get(0).name());
            r.put("inFlight", l.get(0).inFlight());
            r.put("commands", cmds);
            r.put("p50Micros", p50.map());
            r.put("p99Micros", p99.map());
            r.put("perSecond", rate.map());
            rows.add(r);
        }
        json.put("qmp", rows);
    }

    // ---------------------------------------------------------------- 2. launcher run vs raw QEMU

    /** Times in ms from process start; memory in kB. NaN when not reached. */
    private record Sample(Map<String, Double> values) {
    }

    private void launchBench() throws Exception {
        Duration settle = Duration.ofSeconds(quick ? 3 : 10);
        List<Sample> raw = new ArrayList<>();
        List<Sample> launcher = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Interleaved, alternating which goes first.
            if (i % 2 == 0) {
                raw.add(rawRun(i, settle));
                launcher.add(launcherRun(i, settle));
            } else {
                launcher.add(launcherRun(i, settle));
                raw.add(rawRun(i, settle));
            }
            System.err.println("bench: launch round " + (i + 1) + "/" + n + " done");
        }
        emit("\n## 2. Start to boot: `launcher run --console --accel tcg` (the real CLI, a JVM) vs raw QEMU from "
                + "ProcessBuilder + RawQmp (the floor)\n\n");
        emit("Times in ms from process start. Raw: `-S`, then qmp_capabilities + cont. Memory read " + settle.toSeconds()
                + " s after the boot marker.\n\n");
        emit("| phase | raw QEMU (min / median / max) | launcher run (min / median / max) |\n|---|---:|---:|\n");
        String[][] phases = {
            {"QEMU spawned (raw: QMP greeting; launcher: launcher.json written)", "greeting", "launcherJson"},
            {"guest started (raw: cont returned; launcher: \"VM default/" + VM + " running\")", "cont", "running"},
            {"console `QVIRT-GUEST-BOOTED`", "booted", "booted"},
            {"shutdown -> process gone (raw: system_powerdown over QMP; launcher: `launcher shutdown` CLI, "
                + "its JVM start included)", "shutdown", "shutdown"},
            {"QEMU VmRSS (kB)", "qemuRssKb", "qemuRssKb"},
            {"launcher JVM VmRSS (kB)", null, "launcherRssKb"},
            {"launcher JVM PSS (kB)", null, "launcherPssKb"},
        };
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("settleSeconds", settle.toSeconds());
        Map<String, Object> jr = new LinkedHashMap<>();
        Map<String, Object> jl = new LinkedHashMap<>();
        for (String[] p : phases) {
            String r = p[1] == null ? "-" : col(raw, p[1]).fmt("%.0f");
            String l = col(launcher, p[2]).fmt("%.0f");
            emit("| " + p[0] + " | " + r + " | " + l + " |\n");
            if (p[1] != null) {
                jr.put(p[1], col(raw, p[1]).map());
            }
            jl.put(p[2], col(launcher, p[2]).map());
        }
        double contRatio = col(launcher, "running").median / col(raw, "cont").median;
        double bootRatio = col(launcher, "booted").median / col(raw, "booted").median;
        emit(String.format(Locale.ROOT, "\nRatio launcher/raw of medians: time to cont %.2fx, time to boot %.2fx%n",
                contRatio, bootRatio));
        j.put("raw", jr);
        j.put("launcherRun", jl);
        j.put("ratioTimeToCont", contRatio);
        j.put("ratioTimeToBoot", bootRatio);
        j.put("rawSamples", raw.stream().map(Sample::values).toList());
        j.put("launcherSamples", launcher.stream().map(Sample::values).toList());
        json.put("launch", j);
    }

    private Path overlay(String name) throws Exception {
        Path ov = work.resolve(name + ".qcow2");
        Files.deleteIfExists(ov);
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                guest.diskQcow2().toAbsolutePath().toString(), ov.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("qemu-img create failed for " + ov);
            }
        } finally {
            kill(p);
        }
        return ov;
    }

    private Path vmYaml(Path overlay, String name) throws IOException {
        Path f = work.resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: %s
                spec:
                  running: true
                  template:
                    spec:
                      domain:
                        devices:
                          autoattachPodInterface: false
                          disks:
                          - name: root
                            disk:
                              bus: virtio
                        resources:
                          requests:
                            memory: 128Mi
                      volumes:
                      - name: root
                        hostDisk:
                          path: %s
                          type: Disk
                """.formatted(VM, overlay.toAbsolutePath()));
        return f;
    }

    private Sample rawRun(int i, Duration settle) throws Exception {
        Path ov = overlay("raw" + i);
        Path sock = work.resolve("raw" + i + ".sock");
        Files.deleteIfExists(sock);
        Map<String, Double> v = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        Process q = new ProcessBuilder(Qemu.binary().toString(), "-S", "-accel", "tcg", "-m", "128M", "-nodefaults",
                "-no-user-config", "-display", "none", "-serial", "stdio", "-drive", "file=" + ov + ",if=virtio",
                "-qmp", "unix:" + sock + ",server=on,wait=off")
                .redirectError(work.resolve("raw" + i + ".stderr").toFile()).start();
        StreamTimer console = new StreamTimer(q.getInputStream(), "raw-console", GuestMarkers.BOOTED);
        try {
            waitFor(() -> Files.exists(sock), q, Duration.ofSeconds(30), "raw QEMU QMP socket");
            try (RawQmp qmp = RawQmp.connect(sock, Duration.ofSeconds(30))) {
                v.put("greeting", ms(t0, System.nanoTime()));
                qmp.negotiate();
                String r = qmp.execute("{\"execute\":\"cont\"}");
                v.put("cont", ms(t0, System.nanoTime()));
                if (!r.startsWith("{\"return\"")) {
                    throw new IllegalStateException("cont failed: " + r);
                }
                long booted = console.await(GuestMarkers.BOOTED, BOOT_TIMEOUT, q);
                v.put("booted", ms(t0, booted));
                Thread.sleep(settle.toMillis());
                v.put("qemuRssKb", procKb(q.pid(), "status", "VmRSS:"));
                long s0 = System.nanoTime();
                qmp.execute("{\"execute\":\"system_powerdown\"}");
                if (!q.waitFor(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("raw QEMU did not power off within 60 s");
                }
                v.put("shutdown", ms(s0, System.nanoTime()));
            }
        } finally {
            kill(q);
            console.close();
            Files.deleteIfExists(sock);
            Files.deleteIfExists(ov);
        }
        return new Sample(v);
    }

    private Sample launcherRun(int i, Duration settle) throws Exception {
        Path ov = overlay("lr" + i);
        Path yaml = vmYaml(ov, "lr" + i);
        Path rt = work.resolve("rt" + i);
        Path info = rt.resolve("default").resolve(VM).resolve("launcher.json");
        Map<String, Double> v = new LinkedHashMap<>();
        Pattern running = Pattern.compile("VM default/" + Pattern.quote(VM) + " running");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("java", "-jar", launcherJar().toString(), "run", yaml.toString(), "--console",
                "--accel", "tcg", "--runtime-root", rt.toString()).start();
        StreamTimer stdout = new StreamTimer(p.getInputStream(), "launcher-stdout", GuestMarkers.BOOTED);
        StreamTimer stderr = new StreamTimer(p.getErrorStream(), "launcher-stderr", running);
        long qemuPid = -1;
        try {
            waitFor(() -> Files.exists(info), p, Duration.ofSeconds(60), "launcher.json");
            v.put("launcherJson", ms(t0, System.nanoTime()));
            v.put("running", ms(t0, stderr.await(running, Duration.ofSeconds(60), p)));
            v.put("booted", ms(t0, stdout.await(GuestMarkers.BOOTED, BOOT_TIMEOUT, p)));
            JsonNode li = new ObjectMapper().readTree(info.toFile());
            qemuPid = li.path("qemuPid").asLong(-1);
            Thread.sleep(settle.toMillis());
            v.put("launcherRssKb", procKb(p.pid(), "status", "VmRSS:"));
            v.put("launcherPssKb", procKb(p.pid(), "smaps_rollup", "Pss:"));
            v.put("qemuRssKb", procKb(qemuPid, "status", "VmRSS:"));
            long s0 = System.nanoTime();
            Process sd = new ProcessBuilder("java", "-jar", launcherJar().toString(), "shutdown", VM, "--runtime-root",
                    rt.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                if (!p.waitFor(90, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("launcher run did not exit within 90 s of shutdown");
                }
                v.put("shutdown", ms(s0, System.nanoTime()));
                sd.waitFor(30, TimeUnit.SECONDS);
            } finally {
                kill(sd);
            }
        } catch (Exception e) {
            System.err.println("bench: launcher run failed; stderr:\n" + stderr.text());
            throw e;
        } finally {
            kill(p);
            if (qemuPid > 0) {
                ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);
            }
            stdout.close();
            stderr.close();
            deleteTree(rt);
            Files.deleteIfExists(ov);
        }
        return new Sample(v);
    }

    // ---------------------------------------------------------------- launcher exec

    private void execBench() throws Exception {
        Path ov = overlay("exec");
        Path yaml = vmYaml(ov, "exec");
        Path rt = work.resolve("rt-exec");
        Map<String, Object> j = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("java", "-jar", launcherJar().toString(), "exec", yaml.toString(), "--accel",
                "tcg", "--autostart", "--runtime-root", rt.toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("exec.log").toFile()).start();
        Path exe = Path.of("/proc", Long.toString(p.pid()), "exe");
        try {
            waitFor(() -> {
                try {
                    return Files.readSymbolicLink(exe).getFileName().toString().startsWith("qemu-system");
                } catch (IOException e) {
                    return false;
                }
            }, p, Duration.ofSeconds(60), "launcher exec to become QEMU");
            double execMs = ms(t0, System.nanoTime());
            String target = Files.readSymbolicLink(exe).toString();
            Thread.sleep(quick ? 3000 : 10_000);
            double rss = procKb(p.pid(), "status", "VmRSS:");
            long others = ProcessHandle.of(p.pid()).map(h -> h.children().count()).orElse(0L);
            j.put("pid", p.pid());
            j.put("exe", target);
            j.put("specToQemuMs", execMs);
            j.put("qemuRssKb", rss);
            j.put("bytesBesideQemu", 0);
            j.put("childProcesses", others);
            emit("\n## `launcher exec --autostart` (the launcher pod's entrypoint)\n\n");
            emit("| what | value |\n|---|---|\n");
            emit("| /proc/" + p.pid() + "/exe of the process we spawned as `java -jar qvirt-launcher.jar exec` | `"
                    + target + "` |\n");
            emit(String.format(Locale.ROOT, "| process start -> the pid is QEMU | %.0f ms |%n", execMs));
            emit(String.format(Locale.ROOT, "| QEMU VmRSS | %.0f kB |%n", rss));
            emit("| memory beside QEMU | **0 bytes beside QEMU** (same pid, " + others
                    + " child processes; no JVM remains) |\n");
        } finally {
            kill(p);
            deleteTree(rt);
            Files.deleteIfExists(ov);
        }
        json.put("exec", j);
    }

    // ---------------------------------------------------------------- 3. kvm-probe

    private void kvmProbeBench() throws Exception {
        Pattern probe = Pattern.compile("timings: probe ([0-9.]+) ms");
        Pattern cmd = Pattern.compile("command incl\\. parsing and output ([0-9.]+) ms");
        List<Double> probes = new ArrayList<>();
        List<Double> cmds = new ArrayList<>();
        List<Double> walls = new ArrayList<>();
        String lastLine = "";
        String verdict = "";
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(root.resolve("bin/kvm-probe").toString(), "--timings")
                    .redirectErrorStream(true).start();
            String text;
            try {
                text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(60, TimeUnit.SECONDS);
            } finally {
                kill(p);
            }
            walls.add(ms(t0, System.nanoTime()));
            for (String line : text.split("\n")) {
                if (line.startsWith("timings:")) {
                    lastLine = line.strip();
                }
                if (line.startsWith("verdict")) {
                    verdict = line.replaceFirst("verdict\\s+", "").strip();
                }
            }
            Matcher m = probe.matcher(text);
            if (m.find()) {
                probes.add(Double.parseDouble(m.group(1)));
            }
            Matcher c = cmd.matcher(text);
            if (c.find()) {
                cmds.add(Double.parseDouble(c.group(1)));
            }
        }
        Mmm pr = Mmm.of(probes);
        Mmm cm = Mmm.of(cmds);
        Mmm wa = Mmm.of(walls);
        emit("\n## 3. `bin/kvm-probe --timings` (" + n + " runs; verdict here: " + verdict + ")\n\n");
        emit("| measure | ms (min / median / max) |\n|---|---:|\n");
        emit("| probe (printed) | " + pr.fmt("%.1f") + " |\n");
        emit("| command incl. parsing and output (printed) | " + cm.fmt("%.1f") + " |\n");
        emit("| wall clock incl. JVM start (measured here) | " + wa.fmt("%.0f") + " |\n");
        emit("\nLast printed: `" + lastLine + "`\n");
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("verdict", verdict);
        j.put("probeMs", pr.map());
        j.put("commandMs", cm.map());
        j.put("wallMs", wa.map());
        j.put("lastTimingsLine", lastLine);
        json.put("kvmProbe", j);
    }

    // ---------------------------------------------------------------- helpers

    private Path launcherJar() {
        Path jar = root.resolve("launcher/target/qvirt-launcher.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("launcher not built: " + jar);
        }
        return jar;
    }

    private void emit(String s) {
        out.append(s);
        System.out.print(s);
        System.out.flush();
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    private static Mmm col(List<Sample> samples, String key) {
        return Mmm.of(samples.stream().map(s -> s.values().getOrDefault(key, Double.NaN)).toList());
    }

    /** A kB figure from /proc/PID/FILE's line starting with {@code key}; NaN if unreadable. */
    private static double procKb(long pid, String file, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), file))) {
                if (line.startsWith(key)) {
                    return Double.parseDouble(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return Double.NaN;
    }

    private interface Cond {
        boolean test() throws Exception;
    }

    private static void waitFor(Cond c, Process p, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!c.test()) {
            if (!p.isAlive()) {
                throw new IllegalStateException("process exited (" + p.exitValue() + ") before " + what);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    /** Kills the process and its descendants, and reaps it. */
    private static void kill(Process p) {
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

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }

    /** min / median / max. */
    record Mmm(double min, double median, double max) {
        static Mmm of(List<Double> xs) {
            List<Double> s = xs.stream().filter(d -> !d.isNaN()).sorted().toList();
            if (s.isEmpty()) {
                return new Mmm(Double.NaN, Double.NaN, Double.NaN);
            }
            int k = s.size();
            double med = k % 2 == 1 ? s.get(k / 2) : (s.get(k / 2 - 1) + s.get(k / 2)) / 2;
            return new Mmm(s.get(0), med, s.get(k - 1));
        }

        String fmt(String f) {
            if (Double.isNaN(median)) {
                return "n/a";
            }
            return String.format(Locale.ROOT, f + " / " + f + " / " + f, min, median, max);
        }

        Map<String, Double> map() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("min", Double.isNaN(min) ? null : min);
            m.put("median", Double.isNaN(median) ? null : median);
            m.put("max", Double.isNaN(max) ? null : max);
            return m;
        }
    }
}
