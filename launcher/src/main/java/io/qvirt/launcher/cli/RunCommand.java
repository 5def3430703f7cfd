package io.qvirt.launcher.cli;

import io.qvirt.launcher.runtime.AccelMode;
import io.qvirt.launcher.runtime.AcceleratorChooser;
import io.qvirt.launcher.runtime.Terminal;
import io.qvirt.launcher.runtime.VmRunner;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the VM (or VMI) in FILE and stays resident as the owner of its QEMU until it stops.",
            "If this process dies by any signal, QEMU dies with it. Ctrl-C or SIGTERM: graceful shutdown",
            "(ACPI power button, then quit after the grace period).",
            "With --console on a terminal: raw mode, Ctrl-] detaches and shuts the VM down; on a pipe the",
            "console is printed until the VM stops.",
            "Networking: the pod network with masquerade is QEMU user-mode networking; each of the interface's",
            "ports is forwarded from 127.0.0.1 (the same port if free, else a free one). With no ports listed",
            "no port is forwarded (KubeVirt forwards all; user-mode networking cannot).",
            "Images (containerDisk volumes, kernelBoot) are pulled before QEMU starts,",
            "into a cache all VMs share (by digest). imagePullPolicy as KubeVirt's:",
            "IfNotPresent asks no registry once the image is cached. Each VM writes",
            "a qcow2 overlay of its own; the cached disk stays read-only."})
final class RunCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "VirtualMachine or VirtualMachineInstance YAML/JSON; a "
            + "VirtualMachine's instancetype and preference as other documents of the file")
    Path file;

    @Mixin
    ImageOptions images;

    @Mixin
    NetworkOptions network;

    @Mixin
    InstancetypeOptions instancetypes;

    @Mixin
    ClaimOptions claims;

    @Option(names = "--console", description = "attach the serial console")
    boolean console;

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg", description = "auto (default): KVM if kvm-probe says FULL, "
            + "else TCG with a warning; kvm: fail unless FULL; tcg: always emulate")
    AccelMode accel = AccelMode.AUTO;

    @Option(names = "--keep", description = "keep the VM's directory (console.log, qemu.stderr) after it stops")
    boolean keep;

    @Option(names = "--grace", paramLabel = "SECONDS",
            description = "graceful shutdown period (default: the spec's terminationGracePeriodSeconds, else 30)")
    Long graceSeconds;

    @Option(names = "--overcommit", paramLabel = "PERCENT", description = "guest memory may exceed the host's "
            + "MemAvailable by PERCENT percent of it (default 0: a guest asking for more than MemAvailable is refused)")
    int overcommit;

    @Override
    int doCall() throws Exception {
        if (graceSeconds != null && graceSeconds < 0) {
            throw new IllegalArgumentException("--grace: must be >= 0 seconds");
        }
        if (overcommit < 0) {
            throw new IllegalArgumentException("--overcommit: must be >= 0 percent");
        }
        ImageOptions.Settings imageSettings = images.settings();
        Specs.Spec s = Specs.load(file, network.settings(), instancetypes.sources());
        VmRunner runner = new VmRunner(QemuBinary.find(), new AcceleratorChooser(), log());
        for (String sig : new String[] {"INT", "TERM", "HUP"}) {
            Signal.handle(new Signal(sig), x -> runner.requestStop("SIG" + sig));
        }
        boolean interactive = console && Terminal.interactive();
        VmRunner.Result r = runner.run(s.vmi(), s.fieldPrefix(), new VmRunner.RunOptions(root(), accel, console, keep,
                graceSeconds == null ? null : Duration.ofSeconds(graceSeconds), System.in,
                new FileOutputStream(FileDescriptor.out), interactive,
                (vmi, prefix) -> ImageOptions.resolver(imageSettings, log(), err()).resolve(vmi, prefix),
                claims.find(s.vmi(), s.fieldPrefix()), overcommit));
        out().println("VM " + s.vmi().getMetadata().getNamespace() + "/" + s.vmi().getMetadata().getName() + ": "
                + (r.phase().name().charAt(0) + r.phase().name().substring(1).toLowerCase()) + " (" + r.reason() + ")");
        return r.exitCode();
    }
}
