package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qvirt.launcher.runtime.NetworkHandshake;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the handler finds the launcher's process from its request: pid namespace, pid, and the file it sees. */
class BridgeNetworksTest {
    @Test
    void theLauncherIsTheProcessOfThatPidNamespaceAndPidThatSeesTheRequest(@TempDir Path dir) throws Exception {
        long self = ProcessHandle.current().pid();
        String ns = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        Path file = dir.resolve(NetworkHandshake.REQUEST);
        var ifs = List.of(new NetworkHandshake.RequestedInterface("default", "eth0", null));
        NetworkHandshake.Request req = new NetworkHandshake.Request(self, ns, dir.toString(), "u", ifs);
        NetworkHandshake.write(file, req);
        assertEquals(self, BridgeNetworks.hostPid(req, file));
        assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(self, "pid:[1]", dir.toString(), "u", ifs), file),
                "a pid of another pid namespace is another process");
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(self, ns, other.toString(), "u", ifs), file),
                "the process must see this very request file");
        assertEquals(-1, BridgeNetworks.hostPid(new NetworkHandshake.Request(self, ns, dir + "/../x", "u", ifs), file));
    }
}
