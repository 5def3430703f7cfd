package io.qvirt.launcher.cli;

import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.LauncherException;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A running VM named on the command line: {@code NAME [-n NAMESPACE]}. */
final class VmRef {
    @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name")
    String name;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "the VM's namespace (default: default)")
    String namespace = "default";

    RuntimePaths paths(Path root) {
        return RuntimeDir.paths(root, namespace, name);
    }

    String display() {
        return namespace + "/" + name;
    }

    /**
     * Connects to the VM's qmp.sock.
     *
     * @throws LauncherException if the VM is not running or its monitor does not answer
     */
    QmpClient connect(Path root, Duration timeout) {
        RuntimePaths p = paths(root);
        if (!Files.exists(p.qmpSocket())) {
            throw new LauncherException("VM " + display() + " is not running here (no " + p.qmpSocket() + ")");
        }
        try {
            return QmpClient.connect(p.qmpSocket(), QmpOptions.defaults().withConnectTimeout(timeout)
                    .withCommandTimeout(Duration.ofSeconds(10))).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new LauncherException("VM " + display() + ": qmp.sock did not answer within " + timeout.toSeconds()
                    + " s (another manager may hold it; QEMU serves one client per monitor)", e);
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new LauncherException("VM " + display() + ": cannot talk to " + p.qmpSocket() + ": " + c.getMessage(), c);
        }
    }
}
