package io.qvirt.launcher.cli;

import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks FILE as KubeVirt's admission would, and that qvirt can run it; nothing is started.",
            "Exit 0 if valid; 2 with every error (field path and what is allowed). Images are not pulled."})
final class ValidateCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Mixin
    NetworkOptions network;

    @Mixin
    InstancetypeOptions instancetypes;

    @Mixin
    ClaimOptions claims;

    @Override
    int doCall() throws Exception {
        Specs.Spec s = Specs.load(file, network.settings(), instancetypes.sources());
        var meta = s.vmi().getMetadata();
        // The accelerator does not change what is valid; TCG avoids probing /dev/kvm for a check.
        new VmPlanner(Path.of("/usr/bin/qemu-system-x86_64")).plan(s.vmi(), new PlanOptions(
                RuntimeDir.paths(root(), meta.getNamespace(), meta.getName()),
                new Accelerator(Accelerator.TCG, "validation"), true, true, s.fieldPrefix(), "127.0.0.1", p -> p, PlanOptions.SPAWN_FIRST_FD,
                ResolvedVolumes.placeholders(s.vmi()).withClaims(claims.find(s.vmi(), s.fieldPrefix()))));
        out().println("valid: " + meta.getNamespace() + "/" + meta.getName() + " (" + file + ")");
        return ExitCodes.OK;
    }
}
