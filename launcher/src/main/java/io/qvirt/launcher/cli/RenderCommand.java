package io.qvirt.launcher.cli;

import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.runtime.AccelMode;
import io.qvirt.launcher.runtime.AcceleratorChooser;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "render", mixinStandardHelpOptions = true,
        description = {"Prints the QEMU argv `run` would use for FILE, one argument per line; nothing is spawned.",
            "Forwarded host ports are shown as the guest's ports (run picks free ones when they are taken).",
            "Inherited fds: 3 = the owner's QMP socket, 4 = qmp.sock, 5 = console.sock (with --exec: 512 = qmp.sock,",
            "513 = console.sock; exec picks the first free range from 512).",
            "Images are not pulled: kernelBoot files show as paths under /var/lib/qvirt/images/not-pulled/."})
final class RenderCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Mixin
    NetworkOptions network;

    @Mixin
    InstancetypeOptions instancetypes;

    @Mixin
    ClaimOptions claims;

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg", description = "as for run (default auto)")
    AccelMode accel = AccelMode.AUTO;

    @Option(names = "--exec", description = "as `launcher exec` would (no owner monitor)")
    boolean exec;

    @Override
    int doCall() throws Exception {
        Specs.Spec s = Specs.load(file, network.settings(), instancetypes.sources());
        var meta = s.vmi().getMetadata();
        Accelerator a = accel == AccelMode.TCG ? new Accelerator(Accelerator.TCG, "tcg requested")
                : new AcceleratorChooser().choose(accel, accel != AccelMode.KVM);
        VmPlan plan = new VmPlanner(QemuBinary.find()).plan(s.vmi(), new PlanOptions(
                RuntimeDir.paths(root(), meta.getNamespace(), meta.getName()), a, !exec, true, s.fieldPrefix(),
                "127.0.0.1", p -> p, exec ? 512 : PlanOptions.SPAWN_FIRST_FD,
                ResolvedVolumes.placeholders(s.vmi()).withClaims(claims.find(s.vmi(), s.fieldPrefix()))));
        plan.argv().forEach(out()::println);
        return ExitCodes.OK;
    }
}
