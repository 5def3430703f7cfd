package io.qvirt.launcher.cli;

import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists the VMs under the runtime root, from their launcher.json (no QMP traffic).")
final class ListCommand extends BaseCommand {
    @Override
    int doCall() throws IOException {
        Path root = root();
        List<String[]> rows = new ArrayList<>();
        if (Files.isDirectory(root)) {
            try (Stream<Path> nss = Files.list(root)) {
                for (Path ns : nss.sorted().toList()) {
                    if (!Files.isDirectory(ns)) {
                        continue;
                    }
                    try (Stream<Path> vms = Files.list(ns)) {
                        for (Path dir : vms.sorted().toList()) {
                            LauncherInfo i = LauncherInfos.read(new RuntimePaths(dir));
                            String state = i == null ? "preparing" : VmCommand.alive(i.qemuPid()) ? "up" : "gone";
                            rows.add(new String[] {ns.getFileName().toString(), dir.getFileName().toString(), state,
                                i == null ? "-" : Long.toString(i.qemuPid()), i == null ? "-" : i.mode(),
                                i == null ? "-" : i.accelerator()});
                        }
                    }
                }
            }
        }
        out().printf("%-16s %-24s %-10s %-8s %-8s %s%n", "NAMESPACE", "NAME", "QEMU", "PID", "MODE", "ACCEL");
        for (String[] r : rows) {
            out().printf("%-16s %-24s %-10s %-8s %-8s %s%n", (Object[]) r);
        }
        return ExitCodes.OK;
    }
}
