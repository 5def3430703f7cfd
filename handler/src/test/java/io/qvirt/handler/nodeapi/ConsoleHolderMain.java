package io.qvirt.handler.nodeapi;

import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.ConsoleClient;
import io.qvirt.launcher.runtime.LauncherException;
import java.nio.file.Path;

/**
 * Run in a child JVM by the tests: the launcher's own {@link ConsoleClient} (as {@code launcher console}
 * uses it) attaches to a VM directory's console, prints {@code ATTACHED} and holds it until its stdin
 * closes; or prints {@code REFUSED <message>} if the console is held.
 */
public final class ConsoleHolderMain {
    private ConsoleHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        ConsoleClient c;
        try {
            c = ConsoleClient.attach(new RuntimePaths(Path.of(args[0])), args[1]);
        } catch (LauncherException e) {
            System.out.println("REFUSED " + e.getMessage());
            return;
        }
        try {
            System.out.println("ATTACHED");
            System.out.flush();
            while (System.in.read() >= 0) {
                // Hold the console until the parent closes our stdin (or dies).
            }
        } finally {
            c.close();
        }
    }
}
