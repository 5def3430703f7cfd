package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.process.Signals;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.qmp.QmpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A command on a running VM through its qmp.sock, whoever started it (run, exec, the handler). */
abstract class VmCommand extends BaseCommand {
    @Mixin
    VmRef vm;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "how long to wait for qmp.sock (default 5)")
    long timeoutSeconds = 5;

    @Override
    final int doCall() throws Exception {
        if (timeoutSeconds <= 0) {
            throw new IllegalArgumentException("--timeout: must be > 0 seconds");
        }
        try (QmpClient qmp = vm.connect(root(), Duration.ofSeconds(timeoutSeconds)); VmControl ctl = new VmControl(qmp)) {
            return onVm(ctl);
        }
    }

    abstract int onVm(VmControl ctl) throws Exception;

    RuntimePaths paths() {
        return vm.paths(root());
    }

    LauncherInfo info() {
        return LauncherInfos.read(paths());
    }

    /** A SIGKILL for QEMU by the pid in launcher.json (null if unknown). */
    Runnable killer() {
        LauncherInfo i = info();
        return i == null ? null : () -> Signals.send(i.qemuPid(), Signals.SIGKILL);
    }

    /**
     * After QEMU is gone: a VM started by {@code exec} has no resident owner to clean up, so the command
     * that stopped it removes its directory ({@code run} and the handler remove their own).
     */
    void cleanupIfUnowned() {
        LauncherInfo i = info();
        if (i == null || i.launcherPid() != 0) {
            return;
        }
        for (int n = 0; n < 50 && alive(i.qemuPid()); n++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!alive(i.qemuPid())) {
            RuntimeDir.delete(paths());
        }
    }

    /** Alive and not a zombie (a zombie has exited; only its parent's reaping is pending). */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && stat.length() > close + 2 && stat.charAt(close + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
