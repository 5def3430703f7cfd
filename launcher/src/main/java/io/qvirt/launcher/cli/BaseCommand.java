package io.qvirt.launcher.cli;

import io.qvirt.launcher.runtime.Log;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Every launcher subcommand: returns an exit code; exceptions are mapped by {@link LauncherCommand}. */
abstract class BaseCommand implements Callable<Integer> {
    @ParentCommand
    LauncherCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--runtime-root", paramLabel = "DIR",
            description = "VM directories live under DIR/<namespace>/<name> (default $QVIRT_RUNTIME_ROOT or /run/qvirt)")
    Path runtimeRoot;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    Path root() {
        return RuntimeDir.root(runtimeRoot);
    }

    Log log() {
        return new Log(err(), root.jsonLogs());
    }

    @Override
    public final Integer call() throws Exception {
        return doCall();
    }

    abstract int doCall() throws Exception;
}
