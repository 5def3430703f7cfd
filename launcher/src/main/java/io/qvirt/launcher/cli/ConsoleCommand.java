package io.qvirt.launcher.cli;

import io.qvirt.launcher.runtime.ConsoleClient;
import io.qvirt.launcher.runtime.Terminal;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "console", mixinStandardHelpOptions = true,
        description = {"Attaches to the VM's serial console. One client at a time: a second one is refused at once",
            "with who holds it. On a terminal Ctrl-] detaches (the VM keeps running). On a pipe, input is sent",
            "until it ends and output is printed until the console closes."})
final class ConsoleCommand extends BaseCommand {
    @Mixin
    VmRef vm;

    @Override
    int doCall() throws Exception {
        try (ConsoleClient c = ConsoleClient.attach(vm.paths(root()), "launcher console")) {
            Thread pump = c.pumpOutput(new FileOutputStream(FileDescriptor.out));
            if (Terminal.interactive()) {
                err().println("connected to " + vm.display() + " (Ctrl-] detaches)");
                err().flush();
                try (Terminal t = Terminal.raw()) {
                    c.pumpInput(System.in);
                }
                err().println();
                err().println("detached");
                return ExitCodes.OK;
            }
            c.pumpInput(System.in);
            pump.join();
            return ExitCodes.OK;
        }
    }
}
