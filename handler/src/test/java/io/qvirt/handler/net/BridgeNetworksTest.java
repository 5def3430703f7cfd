package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qvirt.launcher.runtime.NetworkHandshake;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the handler finds the launcher's process from its request: pid namespace, pid, the request file it sees, and
 * the VMI it is for (a real process stands in for the launcher: {@code sh} whose command line names the uid).
 */
class BridgeNetworksTest {
    @Test
    void theLauncherIsTheProcessOfThatPidNamespaceAndPidThatSeesTheRequestAndNamesTheVmi(@TempDir Path dir) throws Exception {
        String uid = UUID.randomUUID().toString();
        // As launcher exec --vmi-json '{..."uid":"<uid>"...}' names it.
        Process p = new ProcessBuilder("sh", "-c", "sleep 30", "{\"uid\":\"" + uid + "\"}").start();
        try {
            long pid = p.pid();
            String ns = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            Path file = dir.resolve(NetworkHandshake.REQUEST);
            var ifs = List.of(new NetworkHandshake.RequestedInterface("default", "eth0", null));
            NetworkHandshake.Request req = new NetworkHandshake.Request(pid, ns, dir.toString(), uid, ifs);
            NetworkHandshake.write(file, req);
            assertEquals(pid, BridgeNetworks.hostPid(req, file, "default/vm"));
            assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(pid, "pid:[1]", dir.toString(), uid, ifs),
                    file, "default/vm"), "a pid of another pid namespace is another process");
            Path other = dir.resolve("other");
            Files.createDirectories(other);
            assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(pid, ns, other.toString(), uid, ifs),
                    file, "default/vm"), "the process must see this very request file");
            assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(pid, ns, dir + "/../x", uid, ifs), file,
                    "default/vm"));
            assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(ProcessHandle.current().pid(), ns,
                    dir.toString(), uid, ifs), file, "default/vm"), "a process that is not this VMI's launcher");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }
}
