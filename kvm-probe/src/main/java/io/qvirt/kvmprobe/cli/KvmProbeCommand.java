package io.qvirt.kvmprobe.cli;

import io.qvirt.kvmprobe.KvmProbe;
import io.qvirt.kvmprobe.ProbeOptions;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.Verdict;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kvm-probe}: what /dev/kvm can do, as a table, JSON or node labels. */
@Command(name = "kvm-probe", mixinStandardHelpOptions = true, version = "kvm-probe 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"Tells what a KVM device can really do, with a verdict that matches what QEMU can boot:",
                "FULL (a stock Linux kernel runs under -accel kvm), LIMITED (the API answers but a smoke guest",
                "fails), NONE (no usable KVM)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:verdict printed (FULL, or any verdict without --require-full)",
                "1:LIMITED or NONE with --require-full; or a runtime failure",
                "2:invalid usage"})
public final class KvmProbeCommand implements Callable<Integer> {
    /** Exit codes, mapped here and nowhere else. */
    public static final int EXIT_OK = 0;
    public static final int EXIT_NOT_FULL = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print the report as JSON (schema: kvm-probe/README.md).")
    boolean json;

    @Option(names = "--labels", description = "Print the node labels the handler sets, one key=value a line.")
    boolean labels;

    @Option(names = "--use-emulation",
            description = "With --labels: the node takes VMs on TCG, so it is schedulable without FULL KVM.")
    boolean useEmulation;

    @Option(names = "--device", paramLabel = "PATH", description = "KVM device to probe (default: ${DEFAULT-VALUE}).")
    Path device = ProbeOptions.DEFAULT_DEVICE;

    @Option(names = "--no-smoke", description = "Skip the smoke guests (faster; the verdict is then not proven).")
    boolean noSmoke;

    @Option(names = "--require-full", description = "Exit 1 unless the verdict is FULL.")
    boolean requireFull;

    @Option(names = "--timings", description = "Print where the probe's time went (excluding JVM start).")
    boolean timings;

    @Option(names = "--smoke-timeout", paramLabel = "MS",
            description = "Time each smoke guest may take, in ms (default: ${DEFAULT-VALUE}).")
    long smokeTimeoutMs = ProbeOptions.DEFAULT_SMOKE_TIMEOUT.toMillis();

    private final long createdNanos = System.nanoTime();

    @Override
    public Integer call() {
        if (smokeTimeoutMs <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--smoke-timeout must be a positive number of milliseconds, got " + smokeTimeoutMs);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProbeOptions options = ProbeOptions.defaults().withDevice(device).withRunSmoke(!noSmoke)
                .withSmokeTimeout(Duration.ofMillis(smokeTimeoutMs));
        ProbeReport report = KvmProbe.probe(options);
        if (json) {
            out.println(report.toJson());
        } else if (labels) {
            for (Map.Entry<String, String> e : report.nodeLabels(useEmulation).entrySet()) {
                out.println(e.getKey() + "=" + e.getValue());
            }
        } else {
            ReportTable.render(report, out);
        }
        if (timings) {
            // With --json the timings are in the document; the summary goes to stderr to keep stdout JSON.
            PrintWriter w = json || labels ? err : out;
            w.println(ReportTable.timingLine(report, (System.nanoTime() - createdNanos) / 1e6));
        }
        out.flush();
        err.flush();
        return requireFull && report.verdict() != Verdict.FULL ? EXIT_NOT_FULL : EXIT_OK;
    }

    /** A configured command line writing to {@code out} and {@code err}: the one place exit codes are mapped. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new KvmProbeCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("kvm-probe: " + ex.getMessage());
            c.getErr().println("Try 'kvm-probe --help' for usage.");
            c.getErr().flush();
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("kvm-probe: " + ex);
            c.getErr().flush();
            return EXIT_NOT_FULL;
        });
        cl.setExitCodeExceptionMapper(t -> t instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_NOT_FULL);
        return cl;
    }

    /** Runs the CLI with {@code args}; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        return code;
    }

    public static void main(String[] args) {
        KvmProbe.prewarm(); // bind libc while picocli parses
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(run(out, err, args));
    }
}
