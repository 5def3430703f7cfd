package io.qvirt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qvirt.qmp.bench.QmpBench;
import io.qvirt.testdata.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * qvirt vs raw QEMU vs libvirt, side by side, in one run: the same QEMU binary, guest, device set and
 * accelerator (TCG) for all, contenders interleaved round by round. See bench.sh and bench/README.md.
 * Prints a markdown table; writes bench/results/DATE.{json,md,png}.
 */
public final class BenchMain {
    /** Guests started at once in scenario 5: the 10; 3 in --quick, which CI runs only to keep the code working. */
    private final int densityVms;
    /** Density guests get the test guest's RAM, 128 MiB, as the issue asks. */
    private static final int DENSITY_MIB = TestGuest.MEMORY_MIB;

    private final boolean quick;
    /** Scenario groups to run (all by default; fewer while developing). */
    private final List<String> only;
    private final int n;
    /** Migrations per contender and workload in scenario 8 (each boots a guest: slower than the other rounds). */
    private final int migrationRuns;
    private final int densityReps;
    /** The staggered density variant starts one guest this often, for every contender. */
    private static final Duration STAGGER = Duration.ofMillis(1500);
    private final Duration settle;
    private final Path root;
    private final Path work;
    private final Report report = new Report();
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final StringBuilder md = new StringBuilder();
    private final List<Vm.Kind> kinds = new ArrayList<>(List.of(Vm.Kind.values()));
    private Ctx ctx;
    private double clkTck = 100;

    private BenchMain(boolean quick, Integer runs, List<String> only, Integer migrationRuns) throws Exception {
        this.only = only;
        this.quick = quick;
        this.n = runs != null ? runs : quick ? 3 : 10;
        this.migrationRuns = migrationRuns != null ? migrationRuns : 5;
        this.densityReps = quick ? 1 : 3;
        this.densityVms = quick ? 3 : 10;
        this.settle = Duration.ofSeconds(1);
        this.root = TestGuest.projectRoot();
        this.work = Files.createTempDirectory("qvirt-bench");
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        Integer runs = null;
        boolean keepLibvirt = false;
        boolean noLibvirt = false;
        String kindsArg = null;
        Integer migrationRuns = null;
        // Scenario 8 (migration) belongs to a full run only: --quick (CI) leaves it out unless --only names it.
        List<String> only = null;
        boolean onlyGiven = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--runs" -> runs = i + 1 < args.length ? Integer.parseInt(args[++i]) : null;
                case "--keep-libvirt" -> keepLibvirt = true;
                case "--no-libvirt" -> noLibvirt = true;
                case "--kinds" -> kindsArg = i + 1 < args.length ? args[++i] : "";
                case "--only" -> {
                    onlyGiven = true;
                    only = i + 1 < args.length ? List.of(args[++i].split(",")) : null;
                }
                case "--migration-runs" -> migrationRuns = i + 1 < args.length ? Integer.parseInt(args[++i]) : -1;
                default -> {
                    System.err.println("usage: qvirt-bench [--quick] [--runs N] [--keep-libvirt] [--no-libvirt] "
                            + "[--only lifecycle,qmp,density,cli,migration] [--kinds raw,run,exec,libvirt] "
                            + "[--migration-runs N]");
                    System.exit(2);
                }
            }
        }
        if (!onlyGiven) {
            only = quick ? List.of("lifecycle", "qmp", "density", "cli")
                    : List.of("lifecycle", "qmp", "density", "cli", "migration");
        }
        if (runs != null && runs < 1 || only == null || migrationRuns != null && migrationRuns < 1) {
            System.err.println("--runs and --migration-runs must be >= 1; --only needs a list");
            System.exit(2);
        }
        BenchMain b = new BenchMain(quick, runs, only, migrationRuns);
        if (kindsArg != null) {
            List<String> want = List.of(kindsArg.toUpperCase(Locale.ROOT).split(","));
            b.kinds.removeIf(k -> !want.contains(k.name()));
        }
        int rc = 0;
        Libvirt lv = null;
        try {
            String[] why = {"disabled by --no-libvirt"};
            if (!noLibvirt) {
                System.err.println("bench: starting libvirt (scripts/bench-libvirt.sh start)");
                lv = Libvirt.start(b.root, why);
            }
            b.runAll(lv, why[0]);
        } catch (Exception e) {
            e.printStackTrace();
            rc = 1;
        } finally {
            if (lv != null && !keepLibvirt) {
                lv.stop();
            }
            Procs.deleteTree(b.work);
        }
        System.exit(rc);
    }

    private void runAll(Libvirt lv, String libvirtWhy) throws Exception {
        ZonedDateTime startedAt = ZonedDateTime.now(ZoneOffset.UTC);
        String started = startedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        ctx = Ctx.create(root, work, TestGuest.MEMORY_MIB, lv);
        clkTck = Double.parseDouble(Procs.run(Duration.ofSeconds(10), Procs.cmd("getconf", "CLK_TCK")).strip());
        if (lv != null) {
            // libvirt's one-time QEMU capability probe of the wrapper binary: done here, never timed.
            try {
                lv.probeCapabilities(ctx.wrapper());
            } catch (Exception e) {
                libvirtWhy = "capability probe of " + ctx.wrapper() + " failed: " + e.getMessage();
                lv = null;
            }
        }
        if (lv == null) {
            kinds.remove(Vm.Kind.LIBVIRT);
            ctx = new Ctx(ctx.root(), ctx.work(), ctx.realQemu(), ctx.wrapper(), ctx.stampDir(), ctx.supervisor(),
                    ctx.guest(), ctx.memMib(), ctx.rawArgv(), ctx.templateDisk(), null);
        }
        String qemuVersion = Procs.run(Duration.ofSeconds(10), Procs.cmd(ctx.realQemu().toString(), "--version"))
                .lines().findFirst().orElse("?");
        String probe = kvmVerdict();
        int cpus = Runtime.getRuntime().availableProcessors();
        json.put("startedUtc", started);
        json.put("mode", quick ? "quick" : "default");
        json.put("runs", n);
        json.put("densityReps", densityReps);
        json.put("densityVms", densityVms);
        json.put("cpus", cpus);
        json.put("accelerator", "tcg");
        json.put("kvmProbe", probe);
        json.put("qemu", ctx.realQemu() + " (" + qemuVersion + ")");
        json.put("guest", ctx.guest().properties().getProperty("kernel_package", "?") + ", disk " + ctx.guest().diskQcow2());
        json.put("libvirt", lv != null ? lv.version() : "unavailable: " + libvirtWhy);
        json.put("rawArgvTemplate", ctx.rawArgv());
        json.put("libvirtDomainTemplate", lv != null ? lv.template() : null);
        emit("# qvirt bench: qvirt vs raw QEMU vs libvirt (" + (quick ? "quick" : "default") + ", n=" + n
                + (only.contains("migration") ? ", migrations n=" + migrationRuns : "") + "; " + String.join(", ", only)
                + ")\n\n");
        emit("- started " + startedAt.format(DateTimeFormatter.ISO_INSTANT) + ", " + cpus + " CPUs\n");
        emit("- accelerator: **TCG for every contender** (`-accel tcg`); kvm-probe here: " + probe + "\n");
        emit("- QEMU: `" + ctx.realQemu() + "` (" + qemuVersion + "), run by every contender through the spawn "
                + "stamp `" + ctx.wrapper() + "` (bench/scripts/qemu-spawn-stamp: records exec time, then execs QEMU)\n");
        emit("- guest: " + json.get("guest") + ", " + TestGuest.MEMORY_MIB + " MiB, 1 vCPU, booted from its disk "
                + "(qcow2 overlay, virtio-blk), no NIC; device set = qvirt's rendered argv (raw runs it verbatim, "
                + "libvirt's domain.xml.in matches it)\n");
        emit("- libvirt: " + (lv != null ? lv.version() + "; started by scripts/bench-libvirt.sh (no systemd); its "
                + "one-time capability probe ran before timing and is excluded" : "unavailable (" + libvirtWhy + ")")
                + "\n");
        emit("- contenders: **raw QEMU** = bench/scripts/raw-supervisor (bash builtins: spawn, QMP over FIFOs, cont, "
                + "wait); **qvirt run** = `bin/launcher run --console` (resident JVM); **qvirt exec** = "
                + "`bin/launcher exec --autostart` (the JVM becomes QEMU); **libvirt** = `virsh create`\n");
        emit("- every round runs each contender once, order rotated per round; one discarded warm-up round first\n");
        emit("- figures: min / median / max over the runs; ratios are of medians\n");

        // A section that fails is reported in the notes; the others still run.
        if (only.contains("lifecycle")) {
            try {
                lifecycle();
            } catch (Exception e) {
                failed("scenarios 1, 2, 4, 6", e);
            }
        }
        if (only.contains("qmp")) {
            try {
                qmp();
            } catch (Exception e) {
                failed("scenario 3 (QMP)", e);
            }
        }
        if (only.contains("density")) {
            try {
                density();
            } catch (Exception e) {
                failed("scenario 5 (density)", e);
            }
        }
        if (only.contains("cli")) {
            try {
                cli();
            } catch (Exception e) {
                failed("scenario 7 (launcher CLI)", e);
            }
        }
        if (only.contains("migration")) {
            try {
                migration(lv, libvirtWhy);
            } catch (Exception e) {
                failed("scenario 8 (migration)", e);
            }
        }

        emit("\n## Results\n");
        if (lv == null) {
            emit("\nlibvirt: unavailable (" + libvirtWhy + ")\n");
        }
        emit(report.table());
        emit(cliTable());
        if (migration != null) {
            emit(migration.table(migrationLibvirtWhy));
        }
        // The other scenarios' targets, unless --only left them all out.
        if (only.stream().anyMatch(List.of("lifecycle", "qmp", "density", "cli")::contains)) {
            emit(targets());
        } else {
            emit("\n## Targets (reported, not asserted)\n\n");
        }
        if (migration != null) {
            emit(migration.targets());
        }
        if (!notes.isEmpty()) {
            emit("\n## Notes\n\n");
            notes.forEach(s -> emit("- " + s + "\n"));
        }

        Path dir = root.resolve("bench/results");
        Files.createDirectories(dir);
        json.put("figures", report.json());
        json.put("notes", notes);
        write(dir.resolve(started + ".json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(json));
        Path png = dir.resolve(started + ".png");
        report.chart(png, "qvirt vs raw QEMU vs libvirt (TCG, " + (quick ? "quick, " : "") + "n=" + n + ", " + started + ")");
        emit("\nWritten: bench/results/" + started + ".{json,md,png}\n");
        write(dir.resolve(started + ".md"), md.toString());
    }

    // ---------------------------------------------------------------- 1, 2, 4, 6: one VM's life

    private void lifecycle() throws Exception {
        Map<Vm.Kind, List<Map<String, Double>>> samples = new EnumMap<>(Vm.Kind.class);
        System.err.println("bench: lifecycle warm-up round");
        for (Vm.Kind k : kinds) {
            lifecycleRound(k, "w");
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < kinds.size(); j++) {
                Vm.Kind k = kinds.get((i + j) % kinds.size());
                try {
                    samples.computeIfAbsent(k, x -> new ArrayList<>()).add(lifecycleRound(k, Integer.toString(i)));
                } catch (Exception e) {
                    failed("lifecycle round " + (i + 1) + ", " + k.label, e);
                }
            }
            System.err.println("bench: lifecycle round " + (i + 1) + "/" + n + " done");
        }
        String s1 = "1. start: spawn -> guest running (ms)";
        String s2 = "2. boot: -> QVIRT-GUEST-BOOTED on the serial console (ms)";
        String s4 = "4. memory, one idle VM " + settle.toSeconds() + " s after its shell prompt (MiB)";
        String s6 = "6. graceful shutdown (ms)";
        report.add(s1, fig(samples, "cmdToRunning", "command start -> guest running (whole command)", "%.0f", "1. command start -> running"));
        report.add(s1, fig(samples, "spawnToRunning", "QEMU exec'd -> guest running (`cont` returned)", "%.1f", "1. QEMU exec'd -> running"));
        report.add(s1, fig(samples, "execCpu", "`launcher exec`: the JVM's CPU-seconds before it became QEMU", "%.3f", null));
        report.add(s2, fig(samples, "spawnToBooted", "QEMU exec'd -> marker", "%.0f", null));
        report.add(s2, fig(samples, "cmdToBooted", "command start -> marker", "%.0f", null));
        report.add(s2, fig(samples, "uptime", "guest's own uptime at the marker", "%.0f", null));
        report.add(s2, fig(samples, "hostOverhead", "host-side boot overhead (QEMU exec'd -> marker, minus uptime)",
                "%.0f", "2. boot host overhead"));
        report.add(s4, fig(samples, "mgmtPss", "management PSS beside QEMU (libvirt: 3 daemons, 1 VM)", "%.1f", "4. management PSS, 1 VM"));
        report.add(s4, fig(samples, "qemuRss", "QEMU RSS", "%.1f", null));
        report.add(s4, fig(samples, "qemuPss", "QEMU PSS", "%.1f", null));
        report.add(s6, fig(samples, "shutdown", "system_powerdown request -> QEMU process gone", "%.0f", "6. shutdown -> QEMU gone"));
        notes.add("1: \"guest running\": raw = the supervisor's `cont` returned; qvirt run = its \"running\" log line "
                + "(logged after `cont` returned; its JSON timestamp); libvirt = `virsh create` returned (after "
                + "libvirt's `cont`). qvirt exec --autostart has no -S: its guest runs from QEMU's exec, so its "
                + "\"whole command\" is `launcher exec` start -> QEMU exec'd and its exec -> running is not applicable.");
        notes.add("1/2: \"QEMU exec'd\" is the wall-clock stamp the wrapper writes just before exec'ing QEMU "
                + "(bash start, ~ms, is the same for all contenders); qvirt run's whole command includes its JVM start.");
        notes.add("2: the guest boots from its disk (SeaBIOS + syslinux under TCG), so host-side overhead includes "
                + "firmware and boot loader time, equal for all; libvirt's serial file is written by virtlogd and "
                + "polled every 2 ms, exec's console.log likewise; raw and run read a pipe.");
        notes.add("4: PSS from /proc/PID/smaps_rollup, RSS from /proc/PID/status. qvirt exec: the pid spawned as "
                + "`launcher exec` was checked to be QEMU itself with no other process: 0 beside QEMU. libvirt: "
                + "libvirtd + virtlogd + virtlockd for one VM (virtlockd is idle with the default lock manager).");
        notes.add("6: shutdown is requested as each manager does (all end in QMP system_powerdown): SIGTERM to the raw "
                + "supervisor and to `launcher run`, `virsh shutdown`, and for exec the bench as manager on qmp.sock "
                + "(quit after SHUTDOWN, as the handler does). Gone = pid gone or a zombie: libvirt's QEMU is reaped "
                + "by this sandbox's PID 1 only every ~2 s.");
        json.put("lifecycleSamples", samplesJson(samples));
    }

    private Map<String, Double> lifecycleRound(Vm.Kind k, String tag) throws Exception {
        Map<String, Double> v = new LinkedHashMap<>();
        String name = switch (k) {
            case RAW -> "raw-";
            case RUN -> "run-";
            case EXEC -> "exec-";
            case LIBVIRT -> "lv-";
        } + tag;
        try (Vm vm = Vm.prepare(k, name, ctx)) {
            vm.start();
            double running = vm.runningMs();
            Vm.Booted b = vm.booted();
            double spawn = vm.spawnMs();
            v.put("cmdToRunning", k == Vm.Kind.EXEC ? spawn : running);
            if (k == Vm.Kind.EXEC) {
                // The JVM's CPU (all its threads) up to the exec, read by the spawn stamp from /proc/self/stat.
                v.put("execCpu", vm.stamp().cpuTicks() / clkTck);
            }
            v.put("spawnToRunning", running - spawn);
            v.put("spawnToBooted", b.atMs() - spawn);
            v.put("cmdToBooted", b.atMs());
            v.put("uptime", b.uptimeMs());
            v.put("hostOverhead", b.atMs() - spawn - b.uptimeMs());
            vm.awaitReady();
            Thread.sleep(settle.toMillis());
            long qpid = vm.qemuPid();
            v.put("qemuRss", Procs.rssKb(qpid) / 1024);
            v.put("qemuPss", Procs.pssKb(qpid) / 1024);
            v.put("mgmtPss", switch (k) {
                case RAW, RUN -> vm.mgmtPids().stream().mapToDouble(Procs::pssKb).sum() / 1024;
                case EXEC -> vm.execBecameQemu() ? 0.0 : Double.NaN;
                case LIBVIRT -> Libvirt.daemonsPssKb() / 1024;
            });
            vm.requestShutdown();
            v.put("shutdown", vm.awaitShutdown());
            vm.awaitCommandExit(Duration.ofSeconds(30));
        }
        return v;
    }

    // ---------------------------------------------------------------- 3: QMP round trips

    private void qmp() throws Exception {
        int cmds = quick ? 1000 : 2000;
        int lvCalls = quick ? 300 : 500;
        Map<Vm.Kind, List<Double>> p50 = new EnumMap<>(Vm.Kind.class);
        Map<Vm.Kind, List<Double>> p99 = new EnumMap<>(Vm.Kind.class);
        Map<Vm.Kind, List<Double>> p50x8 = new EnumMap<>(Vm.Kind.class);
        Map<Vm.Kind, List<Double>> rate8 = new EnumMap<>(Vm.Kind.class);
        boolean withLibvirt = kinds.contains(Vm.Kind.LIBVIRT);
        System.err.println("bench: QMP round trips");
        try (Vm q = Vm.prepare(Vm.Kind.RUN, "qmp-q", ctx);
             Vm l = withLibvirt ? Vm.prepare(Vm.Kind.LIBVIRT, "qmp-l", ctx) : null) {
            q.start();
            if (l != null) {
                l.start();
                l.runningMs();
                l.booted();
                l.awaitReady();
            }
            q.booted();
            q.awaitReady();
            Thread.sleep(settle.toMillis());
            for (int i = 0; i < n; i++) {
                for (QmpBench.Stats s : QmpBench.run(q.qmpSocket(), cmds).rows()) {
                    Vm.Kind k = s.name().startsWith("raw") ? Vm.Kind.RAW : Vm.Kind.RUN;
                    if (s.inFlight() == 1) {
                        p50.computeIfAbsent(k, x -> new ArrayList<>()).add(s.p50Micros());
                        p99.computeIfAbsent(k, x -> new ArrayList<>()).add(s.p99Micros());
                    } else {
                        p50x8.computeIfAbsent(k, x -> new ArrayList<>()).add(s.p50Micros());
                        rate8.computeIfAbsent(k, x -> new ArrayList<>()).add(s.perSecond());
                    }
                }
                if (l != null) {
                    double[] r = ctx.libvirt().qmpLatency(l.name, lvCalls);
                    p50.computeIfAbsent(Vm.Kind.LIBVIRT, x -> new ArrayList<>()).add(r[0]);
                    p99.computeIfAbsent(Vm.Kind.LIBVIRT, x -> new ArrayList<>()).add(r[1]);
                }
            }
        }
        String s3 = "3. QMP `query-status` round trips, idle booted guest (us)";
        report.add(s3, fig(p50, "qmpP50", "p50, 1 in flight", "%.1f", "3. QMP p50 (qmp-client)"));
        report.add(s3, fig(p99, "qmpP99", "p99, 1 in flight", "%.1f", null));
        report.add(s3, fig(p50x8, "qmpP50x8", "p50, 8 in flight", "%.1f", null));
        report.add(s3, fig(rate8, "qmpRate8", "commands/s, 8 in flight", "%.0f", null));
        notes.add("3: per run, " + cmds + " commands per row (after a warm-up) for the raw loop and qvirt's qmp-client "
                + "(io.qvirt.qmp.bench.QmpBench) on the qmp.sock of a `launcher run` VM, and " + lvCalls
                + " calls of python3-libvirt's libvirt_qemu.qemuMonitorCommand on one open connection to an identical "
                + "libvirt domain. Column \"raw QEMU\" = a blocking JDK socket loop writing the same bytes; "
                + "\"qvirt run\" = qmp-client (the same client the handler and exec's manager use).");
    }

    // ---------------------------------------------------------------- 5: density

    /**
     * Density, twice: every guest started at once, then one every {@link #STAGGER} (the same stagger for every
     * contender). Keys of the second start with "s" where the first's start with "d".
     */
    private void density() throws Exception {
        densityVariant(Duration.ZERO);
        densityVariant(STAGGER);
    }

    private void densityVariant(Duration stagger) throws Exception {
        boolean staggered = !stagger.isZero();
        String p = staggered ? "s" : "d";
        Map<Vm.Kind, List<Map<String, Double>>> samples = new EnumMap<>(Vm.Kind.class);
        for (int rep = 0; rep < densityReps; rep++) {
            for (int j = 0; j < kinds.size(); j++) {
                Vm.Kind k = kinds.get((rep + j) % kinds.size());
                System.err.println("bench: density" + (staggered ? " (staggered) " : " ") + k.label + " rep "
                        + (rep + 1) + "/" + densityReps);
                try {
                    samples.computeIfAbsent(k, x -> new ArrayList<>()).add(densityRep(k, rep, stagger));
                } catch (Exception e) {
                    failed("density" + (staggered ? " (staggered)" : "") + " rep " + (rep + 1) + ", " + k.label, e);
                }
            }
        }
        String sec = staggered
                ? "5b. density, staggered: " + densityVms + " guests of " + DENSITY_MIB + " MiB, one started every "
                        + stagger.toMillis() + " ms (n=" + densityReps + ")"
                : "5. density: " + densityVms + " guests of " + DENSITY_MIB + " MiB started at once (n=" + densityReps
                        + ")";
        String chart = staggered ? "5b. density, staggered: " : "5. density: ";
        report.add(sec, fig(samples, p + "AllBooted", "first start -> all " + densityVms + " booted (s)", "%.2f",
                chart + "all booted"));
        report.add(sec, fig(samples, p + "BootMed", "one guest's start -> its boot marker, median of the guests (s)",
                "%.2f", staggered ? chart + "per-guest boot" : null));
        report.add(sec, fig(samples, p + "BootMax", "one guest's start -> its boot marker, slowest guest (s)", "%.2f",
                null));
        report.add(sec, fig(samples, p + "TotalPss", "total memory: QEMU PSS + management PSS (MiB)", "%.0f",
                staggered ? null : chart + "total memory"));
        report.add(sec, fig(samples, p + "MgmtPss", "management PSS, all VMs (MiB)", "%.1f", null));
        report.add(sec, fig(samples, p + "QemuRss", "sum of QEMU RSS (MiB)", "%.0f", null));
        report.add(sec, fig(samples, p + "MgmtCpu", "management CPU-seconds per VM, start -> all booted", "%.3f",
                staggered ? null : chart + "mgmt CPU / VM"));
        if (staggered) {
            notes.add("5b: the same guests and measures as 5, but guest i is started at i x " + stagger.toMillis()
                    + " ms for every contender (libvirt: one `virsh create` per guest at its instant, not one batch), "
                    + "so boots overlap less and each contender's own start cost shows; per-guest boot is measured "
                    + "from that guest's own start." + (quick ? " --quick: one repetition." : ""));
        } else {
            notes.add("5: raw = one bash supervisor per VM; qvirt run = one JVM per VM; qvirt exec = the JVM's CPU "
                    + "before it became QEMU (read by the wrapper from /proc/self/stat at exec); libvirt = the three "
                    + "daemons' CPU delta plus the " + densityVms + " `virsh create` processes (run in parallel). "
                    + "Memory read 2 s after the last guest's boot marker." + (quick ? " --quick: one repetition." : ""));
        }
        json.put(staggered ? "densityStaggeredSamples" : "densitySamples", samplesJson(samples));
        if (staggered) {
            json.put("densityStaggerMs", stagger.toMillis());
        }
    }

    /** One repetition of density for one contender; {@code stagger} zero starts every guest at once. */
    private Map<String, Double> densityRep(Vm.Kind k, int rep, Duration stagger) throws Exception {
        String p = stagger.isZero() ? "d" : "s";
        List<Vm> vms = new ArrayList<>();
        Map<String, Double> v = new LinkedHashMap<>();
        try {
            for (int i = 0; i < densityVms; i++) {
                vms.add(Vm.prepare(k, p + k.name().toLowerCase(Locale.ROOT) + rep + "-" + i, ctx));
            }
            double cpu0 = k == Vm.Kind.LIBVIRT ? Libvirt.daemonsCpuTicks() : 0;
            double virshCpu = 0;
            Clock t0;
            if (k == Vm.Kind.LIBVIRT && stagger.isZero()) {
                t0 = Clock.now();
                vms.forEach(vm -> vm.startedExternally(t0));
                virshCpu = Libvirt.createAll(vms.stream().map(Vm::spec).toList(),
                        Duration.ofMinutes(3));
            } else if (k == Vm.Kind.LIBVIRT) {
                t0 = Clock.now();
                virshCpu = Libvirt.createStaggered(vms.stream().map(Vm::spec).toList(), stagger,
                        Duration.ofMinutes(3), (i, c) -> vms.get(i).startedExternally(c));
            } else {
                t0 = Clock.now();
                for (int i = 0; i < vms.size(); i++) {
                    long wait = t0.nanos() + i * stagger.toNanos() - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    vms.get(i).start();
                }
            }
            double last = 0;
            List<Double> boots = new ArrayList<>();
            for (Vm vm : vms) {
                Vm.Booted b = vm.booted();
                boots.add(b.atMs() / 1000);
                last = Math.max(last, (vm.clock().nanos() - t0.nanos()) / 1e6 + b.atMs());
            }
            v.put(p + "AllBooted", last / 1000);
            v.put(p + "BootMed", Mmm.of(boots).median());
            v.put(p + "BootMax", Mmm.of(boots).max());
            double cpu = switch (k) {
                case RAW, RUN -> vms.stream().flatMap(vm -> vm.mgmtPids().stream()).mapToDouble(Procs::cpuTicks).sum()
                        / clkTck;
                case EXEC -> {
                    double t = 0;
                    for (Vm vm : vms) {
                        t += vm.stamp().cpuTicks();
                    }
                    yield t / clkTck;
                }
                case LIBVIRT -> (Libvirt.daemonsCpuTicks() - cpu0) / clkTck + virshCpu;
            };
            v.put(p + "MgmtCpu", cpu / densityVms);
            // Memory 2 s after the last marker (the baseline's density point), without waiting for every prompt.
            Thread.sleep(2000);
            double qemuPss = 0;
            double qemuRss = 0;
            double mgmt = 0;
            for (Vm vm : vms) {
                long pid = vm.qemuPid();
                qemuPss += Procs.pssKb(pid);
                qemuRss += Procs.rssKb(pid);
                mgmt += vm.mgmtPids().stream().mapToDouble(Procs::pssKb).sum();
                if (k == Vm.Kind.EXEC && !vm.execBecameQemu()) {
                    mgmt = Double.NaN;
                }
            }
            if (k == Vm.Kind.LIBVIRT) {
                mgmt = Libvirt.daemonsPssKb();
            }
            v.put(p + "QemuRss", qemuRss / 1024);
            v.put(p + "MgmtPss", mgmt / 1024);
            v.put(p + "TotalPss", (qemuPss + mgmt) / 1024);
        } finally {
            for (Vm vm : vms) {
                try {
                    vm.close();
                } catch (Exception e) {
                    System.err.println("bench: cleaning up " + vm.name + ": " + e.getMessage());
                }
            }
        }
        return v;
    }

    // ---------------------------------------------------------------- 8: live migration on one machine

    private MigrationBench migration;
    private String migrationLibvirtWhy;

    private void migration(Libvirt lv, String libvirtWhy) throws Exception {
        String[] why = {lv == null ? "libvirt unavailable (" + libvirtWhy + ")" : ""};
        LibvirtPeer peer = null;
        if (lv != null && kinds.contains(Vm.Kind.LIBVIRT)) {
            System.err.println("bench: migration: starting a second libvirt daemon to migrate to");
            peer = LibvirtPeer.start(root, lv, why);
            if (peer != null) {
                try {
                    peer.probeCapabilities(ctx.wrapper());
                } catch (Exception e) {
                    why[0] = "capability probe of " + ctx.wrapper() + " by the second libvirt daemon failed: "
                            + e.getMessage();
                    peer.stop();
                    peer = null;
                }
            }
        }
        migrationLibvirtWhy = why[0];
        try {
            migration = new MigrationBench(ctx, migrationRuns, peer);
            migration.run();
        } finally {
            if (peer != null) {
                peer.stop();
            }
        }
        migration.failures.forEach(f -> notes.add("8: " + f));
        json.put("migrationRuns", migrationRuns);
        json.put("migrationSamples", migration.json());
        json.put("migrationLibvirt", peer != null ? "two daemons" : why[0]);
        notes.add("8: every migration moves a freshly booted guest (the test guest's disk as a qcow2 overlay, shared by "
                + "source and target, not copied; 128 MiB; TCG) to a second QEMU on this machine over a Unix socket, "
                + "no bandwidth cap (QEMU's default downtime limit, 300 ms). Floor = the raw supervisor's QEMU and a "
                + "target with the same argv plus -incoming unix:..., without -S, driven by bench/scripts/raw-migrate "
                + "(python3: migrate, query-migrate every 10 ms, quit, wait until the source closes its monitor); qvirt = `launcher exec --autostart`, then "
                + "`launcher migrate NAME --to-runtime-root DIR --json` (whole command: its JVM, planning the target, "
                + "starting it, the migration, quitting the source). Workloads are typed into the serial console: "
                + "a ticker (`read u r </proc/uptime; echo \"QT $i $u\"; usleep 10000` in a loop) and, for the "
                + "dirtying one, `dd` rewriting a " + MigrationBench.DIRTY_MIB + " MiB tmpfs file from another "
                + "(random data, so no zero pages) in a loop. The guest-side gap is the largest interval between two "
                + "consecutive ticks as the host reads them from the console log(s) (source and target, polled every "
                + "2 ms), from the command's start to 1.5 s after it returned: what a user watching the console sees "
                + "of the pause. The guest's own clock sees only part of it (its uptime across that gap is reported): "
                + "its clock stands still while its CPUs are stopped. libvirt: " + (peer != null ? "a second libvirtd "
                + "(and virtlogd) on this machine as a second host would run it (scripts/bench-libvirt.sh start-peer: "
                + "its own mount namespace over libvirt's config, state, cache and log directories, its own "
                + "host_uuid, since libvirt refuses a target with its own host UUID; no cgroups on it), `virsh migrate "
                + "--live --unsafe --xml DEST.xml --migrateuri unix://... NAME PEER-URI` (--unsafe: libvirt cannot "
                + "tell that the disk's filesystem is shared; --xml: the target's console socket and log in its own "
                + "directory, made before the timed command); its figures are `virsh domjobinfo --completed` on the "
                + "target: total time and RAM processed from QEMU, the downtime libvirt's own (source paused -> "
                + "target resumed)." : "not run (" + why[0] + ")."));
    }

    // ---------------------------------------------------------------- output

    /** A failed round leaves its samples out (the figure's n drops) and says why in the notes. */
    private void failed(String what, Exception e) {
        String msg = what + " FAILED, left out: " + e;
        System.err.println("bench: " + msg);
        e.printStackTrace();
        notes.add(msg.length() > 600 ? msg.substring(0, 600) + "..." : msg);
    }

    private Report.Figure fig(Map<Vm.Kind, ? extends List<?>> samples, String key, String name, String fmt,
                              String chart) {
        Map<Vm.Kind, Mmm> m = new EnumMap<>(Vm.Kind.class);
        for (var e : samples.entrySet()) {
            List<Double> xs = new ArrayList<>();
            for (Object o : e.getValue()) {
                if (o instanceof Map<?, ?> map) {
                    Object x = map.get(key);
                    xs.add(x instanceof Double d ? d : Double.NaN);
                } else {
                    xs.add((Double) o);
                }
            }
            Mmm mm = Mmm.of(xs);
            if (mm.present()) {
                m.put(e.getKey(), mm);
            }
        }
        return new Report.Figure(key, name, fmt, m, chart);
    }

    private static Map<String, Object> samplesJson(Map<Vm.Kind, List<Map<String, Double>>> samples) {
        Map<String, Object> out = new LinkedHashMap<>();
        samples.forEach((k, l) -> out.put(k.name().toLowerCase(Locale.ROOT), l));
        return out;
    }

    // ---------------------------------------------------------------- 7: the launcher CLI's short commands

    /** Samples of the whole-command time (ms) of each short launcher command, by label. */
    private final Map<String, List<Double>> cliSamples = new LinkedHashMap<>();

    /**
     * `launcher validate` and `launcher render` of testdata/vm.yaml, as a user types them: bin/launcher, whole
     * command (process start -> exit), interleaved, one discarded warm-up each; 3n runs each.
     */
    private void cli() throws Exception {
        Path vm = root.resolve("testdata/vm.yaml");
        Map<String, List<String>> commands = new LinkedHashMap<>();
        commands.put("validate", List.of(ctx.launcher().toString(), "validate", vm.toString()));
        commands.put("render", List.of(ctx.launcher().toString(), "render", vm.toString()));
        // virtctl's client-only path (issue 21: < 200 ms); bench.sh builds its jar beside the launcher's.
        Path virtctl = root.resolve("bin/virtctl");
        if (Files.exists(root.resolve("virtctl/target/qvirt-virtctl.jar"))) {
            commands.put("virtctl version --client", List.of(virtctl.toString(), "version", "--client"));
        } else {
            notes.add("7: virtctl is not built (virtctl/target/qvirt-virtctl.jar), so `virtctl version --client` "
                    + "was not measured");
        }
        for (List<String> c : commands.values()) {
            Procs.run(Duration.ofSeconds(60), c);
        }
        int runs = 3 * n;
        for (int i = 0; i < runs; i++) {
            for (var e : commands.entrySet()) {
                long t0 = System.nanoTime();
                Procs.run(Duration.ofSeconds(60), e.getValue());
                cliSamples.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
            }
        }
        json.put("cli", cliSamples);
        notes.add("7: bin/launcher as a user runs it (the JVM flags and AppCDS archive of bin/_java-app), whole command "
                + "from process start to exit, " + runs + " runs each, interleaved; render's default accelerator is "
                + "auto, so it reads kvm-probe's verdict kept for this boot (probed once when it is not kept).");
    }

    private String cliTable() {
        if (cliSamples.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\n### 7. CLI start-up: whole command (launcher: testdata/vm.yaml), ms\n\n"
                + "| command | min / median / max |\n|---|---:|\n");
        cliSamples.forEach((k, xs) -> sb.append("| `").append(k.startsWith("virtctl") ? "" : "launcher ").append(k)
                .append("` | ").append(Mmm.of(xs).fmt("%.0f"))
                .append(" |\n"));
        return sb.toString();
    }

    private double cliMedian(String label) {
        List<Double> xs = cliSamples.get(label);
        return xs == null ? Double.NaN : Mmm.of(xs).median();
    }

    /** The targets, reported (never asserted) against this run's medians. */
    private String targets() {
        StringBuilder sb = new StringBuilder("\n## Targets (reported, not asserted)\n\n");
        Function<String, Report.Figure> f = report::find;
        Report.Figure run = f.apply("spawnToRunning");
        double d = run.median(Vm.Kind.RUN) - run.median(Vm.Kind.RAW);
        sb.append(line("QEMU exec'd -> running: qvirt run - raw = %+.1f ms (target <= 40 ms)", d, d <= 40));
        Report.Figure ov = f.apply("hostOverhead");
        d = ov.median(Vm.Kind.RUN) - ov.median(Vm.Kind.RAW);
        sb.append(line("boot host overhead: qvirt run - raw = %+.0f ms (target <= 50 ms)", d, d <= 50));
        d = ov.median(Vm.Kind.EXEC) - ov.median(Vm.Kind.RAW);
        sb.append(line("boot host overhead: qvirt exec - raw = %+.0f ms (target <= 50 ms)", d, d <= 50));
        Report.Figure q = f.apply("qmpP50");
        double r = q.ratio(Vm.Kind.RUN, Vm.Kind.RAW);
        sb.append(line("QMP p50: qmp-client / raw loop = %.2fx (target <= 1.2x)", r, r <= 1.2));
        r = q.ratio(Vm.Kind.LIBVIRT, Vm.Kind.RUN);
        sb.append(line("QMP p50: libvirt / qmp-client = %.2fx (target >= 4x)", r, r >= 4));
        Report.Figure m = f.apply("mgmtPss");
        sb.append(line("memory beside QEMU, exec = %.1f MiB (target 0)", m.median(Vm.Kind.EXEC),
                m.median(Vm.Kind.EXEC) == 0));
        sb.append(line("memory beside QEMU, run = %.1f MiB PSS (target < 64 MiB; start-up issue: < 40 MiB)",
                m.median(Vm.Kind.RUN), m.median(Vm.Kind.RUN) < 40));
        for (Vm.Kind k : List.of(Vm.Kind.RUN, Vm.Kind.EXEC)) {
            Report.Figure t = f.apply("dAllBooted");
            Report.Figure mem = f.apply("dTotalPss");
            double rt = t.ratio(k, Vm.Kind.LIBVIRT);
            double rm = mem.ratio(k, Vm.Kind.LIBVIRT);
            sb.append(line("density, " + k.label + " / libvirt: all booted %.2fx, total memory " + fmt(rm)
                    + "x (target: no worse, <= 1)", rt, rt <= 1 && rm <= 1));
        }
        for (Vm.Kind k : List.of(Vm.Kind.RAW, Vm.Kind.RUN, Vm.Kind.EXEC)) {
            double rt = f.apply("sAllBooted").ratio(k, Vm.Kind.LIBVIRT);
            double rb = f.apply("sBootMed").ratio(k, Vm.Kind.LIBVIRT);
            sb.append("- density staggered (" + STAGGER.toMillis() + " ms), " + k.label + " / libvirt: all booted "
                    + fmt(rt) + "x, one guest's boot " + fmt(rb) + "x (reported, no target)\n");
        }
        // The start-up issue's figures (the launcher CLI, TCG, this 2-core machine).
        Report.Figure cmd = f.apply("cmdToRunning");
        double runMs = cmd.median(Vm.Kind.RUN);
        double virsh = cmd.median(Vm.Kind.LIBVIRT);
        sb.append(line("start-up: `launcher run` command -> guest running = %.0f ms (target < 400 ms and > 15%% under "
                + "`virsh create`, here " + fmt(virsh) + " ms)", runMs, runMs < 400 && !(virsh * 0.85 <= runMs)));
        double exec = cmd.median(Vm.Kind.EXEC);
        sb.append(line("start-up: `launcher exec` command -> QEMU exec'd = %.0f ms (target < 250 ms)", exec, exec < 250));
        double cpu = f.apply("execCpu").median(Vm.Kind.EXEC);
        sb.append(line("start-up: `launcher exec` CPU-seconds per VM start = %.3f (target < 0.25)", cpu, cpu < 0.25));
        double v = cliMedian("validate");
        sb.append(line("start-up: `launcher validate` testdata/vm.yaml, whole command = %.0f ms (target < 250 ms)", v, v < 250));
        double rd = cliMedian("render");
        sb.append(line("start-up: `launcher render` testdata/vm.yaml, whole command = %.0f ms (target < 250 ms)", rd, rd < 250));
        double vc = cliMedian("virtctl version --client");
        sb.append(line("start-up: `virtctl version --client`, whole command = %.0f ms (target < 200 ms)", vc, vc < 200));
        return sb.toString();
    }

    private static String fmt(double x) {
        return Double.isNaN(x) ? "n/a" : String.format(Locale.ROOT, "%.2f", x);
    }

    private static String line(String f, double x, boolean met) {
        String verdict = Double.isNaN(x) ? "not measured" : met ? "met" : "NOT met";
        return "- " + (Double.isNaN(x) ? f.replaceAll("%[+.0-9]*f", "n/a").replace("%%", "%") : String.format(Locale.ROOT, f, x))
                + ": **" + verdict + "**\n";
    }

    private String kvmVerdict() {
        try {
            String out = Procs.run(Duration.ofSeconds(90), Procs.cmd(root.resolve("bin/kvm-probe").toString()));
            String verdict = "?";
            String reason = "";
            for (String l : out.split("\n")) {
                if (l.startsWith("verdict")) {
                    verdict = l.replaceFirst("verdict\\s+", "").strip();
                } else if (l.startsWith("reason")) {
                    reason = l.replaceFirst("reason\\s+", "").strip();
                }
            }
            return verdict + (reason.isEmpty() ? "" : " (" + reason + ")");
        } catch (Exception e) {
            return "not run (" + e.getMessage() + ")";
        }
    }

    private void emit(String s) {
        md.append(s);
        System.out.print(s);
        System.out.flush();
    }

    private static void write(Path f, String text) throws Exception {
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE);
    }
}
