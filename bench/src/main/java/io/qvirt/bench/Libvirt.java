package io.qvirt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * libvirt as a contender: daemons started by scripts/bench-libvirt.sh (no systemd), domains from
 * domain.xml.in made to match qvirt's device set, `virsh` for lifecycle, python3-libvirt for QMP.
 */
final class Libvirt {
    static final String URI = "qemu:///system";
    private static final Path RUN = Path.of(System.getenv().getOrDefault("QVIRT_BENCH_LIBVIRT_RUN",
            "/run/qvirt-bench-libvirt"));
    static final List<String> DAEMONS = List.of("libvirtd", "virtlogd", "virtlockd");

    private final Path root;
    private final String template;
    private final String version;

    private Libvirt(Path root, String template, String version) {
        this.root = root;
        this.template = template;
        this.version = version;
    }

    /** Starts libvirt (installing it if missing); null and {@code why[0]} set if it is unavailable. */
    static Libvirt start(Path root, String[] why) {
        try {
            String out = Procs.run(Duration.ofMinutes(10), Procs.cmd(root.resolve("scripts/bench-libvirt.sh").toString(),
                    "start"));
            String last = out.strip().lines().reduce((a, b) -> b).orElse("");
            if (!last.equals("ok")) {
                why[0] = last.replaceFirst("^unavailable: ", "");
                return null;
            }
            String tmpl;
            try (var in = Libvirt.class.getResourceAsStream("domain.xml.in")) {
                tmpl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String v = Procs.run(Duration.ofSeconds(30), Procs.cmd("virsh", "-c", URI, "version", "--daemon")).strip()
                    .replaceAll("\\s*\\n\\s*", "; ");
            return new Libvirt(root, tmpl, v);
        } catch (Exception e) {
            why[0] = e.getMessage();
            return null;
        }
    }

    void stop() {
        try {
            Procs.run(Duration.ofMinutes(1), Procs.cmd(root.resolve("scripts/bench-libvirt.sh").toString(), "stop"));
        } catch (Exception e) {
            System.err.println("bench: stopping libvirt: " + e.getMessage());
        }
    }

    String template() {
        return template;
    }

    String version() {
        return version;
    }

    /**
     * Excludes libvirt's one-time QEMU capability probe of the wrapper binary from every figure: it runs
     * here, before anything is timed.
     */
    void probeCapabilities(Path emulator) throws Exception {
        Procs.run(Duration.ofMinutes(3), Procs.cmd("virsh", "-q", "-c", URI, "domcapabilities", "--emulatorbin",
                emulator.toString(), "--arch", "x86_64", "--machine", "q35", "--virttype", "qemu"));
    }

    Path domainXml(Path dir, String name, int memMib, Path emulator, Path disk, Path serial) throws IOException {
        Path f = dir.resolve(name + ".xml");
        Files.writeString(f, template.replace("@NAME@", name).replace("@MEM@", Integer.toString(memMib))
                .replace("@QEMU@", emulator.toString()).replace("@DISK@", disk.toString())
                .replace("@SERIAL@", serial.toString()));
        return f;
    }

    static List<String> virsh(String... args) {
        List<String> c = Procs.cmd("virsh", "-q", "-c", URI);
        c.addAll(List.of(args));
        return c;
    }

    static long qemuPid(String name) {
        return Procs.readPid(Path.of("/run/libvirt/qemu", name + ".pid"));
    }

    /** The daemons' pids, by name (those running). */
    static Map<String, Long> daemonPids() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String d : DAEMONS) {
            long pid = Procs.readPid(RUN.resolve(d + ".pid"));
            if (pid > 0 && !Procs.goneOrZombie(pid)) {
                m.put(d, pid);
            }
        }
        return m;
    }

    static double daemonsPssKb() {
        return daemonPids().values().stream().mapToDouble(Procs::pssKb).sum();
    }

    static double daemonsCpuTicks() {
        return daemonPids().values().stream().mapToDouble(Procs::cpuTicks).sum();
    }

    /** Destroys the domain (QEMU killed); libvirt forgets it once its QEMU is reaped. */
    static void destroy(String name) {
        try {
            Procs.run(Duration.ofSeconds(30), virsh("destroy", name));
        } catch (Exception e) {
            // Already gone: it powered off, or libvirt destroyed it (on_poweroff).
        }
    }

    /**
     * query-status round trips through libvirt: python3-libvirt's {@code libvirt_qemu.qemuMonitorCommand} on
     * one open connection, {@code calls} calls after a warm-up; returns p50 and p99 in microseconds.
     */
    double[] qmpLatency(String domain, int calls) throws Exception {
        String out = Procs.run(Duration.ofMinutes(5), Procs.cmd("/usr/bin/python3",
                root.resolve("bench/scripts/libvirt-qmp-latency.py").toString(), URI, domain, Integer.toString(calls)));
        String last = out.strip().lines().reduce((a, b) -> b).orElse("");
        String[] p = last.split(" ");
        if (p.length != 2) {
            throw new IllegalStateException("libvirt-qmp-latency.py printed: " + out);
        }
        return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])};
    }

    /**
     * Runs {@code virsh create} for every file at once from one bash, which then prints the CPU time of all the
     * virsh processes it reaped (bash's {@code times}); returns that in seconds. Waits up to {@code timeout}.
     */
    static double createAll(List<Path> xmls, Duration timeout) throws Exception {
        List<String> c = new ArrayList<>(List.of("bash", "-c",
                "for x in \"$@\"; do virsh -q -c " + URI + " create \"$x\" >/dev/null || echo \"virsh create $x failed\" & "
                        + "done; wait; times", "bash"));
        xmls.forEach(x -> c.add(x.toString()));
        String out = Procs.run(timeout, c);
        if (out.contains("failed")) {
            throw new IllegalStateException(out);
        }
        return timesCpuSeconds(out);
    }

    /**
     * {@code virsh create} of each domain in turn, one every {@code stagger} from now, each in a shell of its
     * own started when its turn comes, so every domain has its own start instant.
     *
     * @param started called with each domain's index and start instant, as it is started
     * @return the CPU-seconds of the {@code virsh} processes
     */
    static double createStaggered(List<Path> xmls, Duration stagger, Duration timeout,
                                  java.util.function.BiConsumer<Integer, Clock> started) throws Exception {
        long t0 = System.nanoTime();
        List<Path> outs = new ArrayList<>();
        List<Process> ps = new ArrayList<>();
        try {
            for (int i = 0; i < xmls.size(); i++) {
                long wait = t0 + i * stagger.toNanos() - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                Path out = Files.createTempFile("qvirt-bench-virsh", ".out");
                outs.add(out);
                Clock c = Clock.now();
                ps.add(new ProcessBuilder("bash", "-c", "virsh -q -c " + URI + " create \"$1\" >/dev/null "
                        + "|| echo \"virsh create $1 failed\"; times", "bash", xmls.get(i).toString())
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start());
                started.accept(i, c);
            }
            double s = 0;
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < ps.size(); i++) {
                if (!ps.get(i).waitFor(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("virsh create " + xmls.get(i) + " did not finish within " + timeout);
                }
                String out = Files.readString(outs.get(i));
                if (out.contains("failed")) {
                    throw new IllegalStateException(out);
                }
                s += timesCpuSeconds(out);
            }
            return s;
        } finally {
            ps.forEach(Process::destroyForcibly);
            for (Path o : outs) {
                Files.deleteIfExists(o);
            }
        }
    }

    /** bash's {@code times}: line 1 = the shell's own user/sys, line 2 = its children's, as "0m0.123s 0m0.045s". */
    private static double timesCpuSeconds(String out) {
        String[] lines = out.strip().split("\n");
        double s = 0;
        for (String line : List.of(lines[lines.length - 2], lines[lines.length - 1])) {
            for (String t : line.trim().split("\\s+")) {
                String[] ms = t.replace("s", "").split("m");
                s += Double.parseDouble(ms[0]) * 60 + Double.parseDouble(ms[1]);
            }
        }
        return s;
    }
}
