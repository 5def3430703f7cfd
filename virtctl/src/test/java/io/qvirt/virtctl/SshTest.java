package io.qvirt.virtctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ssh}: the system ssh's command line (KubeVirt's local-ssh: a ProxyCommand of {@code virtctl port-forward
 * --stdio}), checked on a FAKE {@code ssh} (a shell script first on PATH that writes its arguments, one per line, and
 * exits with a chosen status: the real ssh would connect); a missing ssh is a clear error. The rig test
 * ({@code PortForwardRigIT}) runs the real ssh through the real path.
 */
class SshTest {
    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;
    Path argsFile;

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        argsFile = tmp.resolve("ssh-args");
        Path fake = bin.resolve("ssh");
        Files.writeString(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + argsFile + "'\nexit ${FAKE_SSH_STATUS:-0}\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        env = new HashMap<>(Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString(),
                "PATH", bin + ":/usr/bin:/bin", "USER", "jdoe", "QVIRT_VIRTCTL_PATH", "/opt/q virt/bin/virtctl"));
    }

    @AfterEach
    void down() {
        api.close();
    }

    List<String> args() throws Exception {
        return Files.readAllLines(argsFile);
    }

    @Test
    void runsSshWithAPortForwardProxyCommand() throws Exception {
        MockApiServer.Run r = MockApiServer.virtctl(env, "ssh", "vm/testvm");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("-o", "ProxyCommand='/opt/q virt/bin/virtctl' port-forward --stdio=true vm/testvm/ns1 22",
                "jdoe@vm.testvm.ns1"), args(), "the context's namespace, $USER, port 22");

        Path kubeconfig = Path.of(env.get("KUBECONFIG"));
        r = MockApiServer.virtctl(env, "--kubeconfig", kubeconfig.toString(), "ssh", "-p", "2222", "-i", "/keys/id 1",
                "--known-hosts", "/tmp/kh", "-t", "-o StrictHostKeyChecking=no", "-t", "-v", "-c", "uname -a", "root@vmi/db/prod");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("-o", "ProxyCommand='/opt/q virt/bin/virtctl' --kubeconfig " + kubeconfig
                        + " port-forward --stdio=true vmi/db/prod 2222",
                "-o", "StrictHostKeyChecking=no", "-v", "-i", "/keys/id 1", "-o", "UserKnownHostsFile=/tmp/kh",
                "root@vmi.db.prod", "uname -a"), args());

        r = MockApiServer.virtctl(env, "-n", "other", "ssh", "--username", "alice", "vm/testvm");
        assertEquals(0, r.code(), r.err());
        assertEquals("alice@vm.testvm.other", args().get(2), "-n and --username");
        assertEquals(List.of(), api.requests(), "ssh itself sends nothing to the API server: the ProxyCommand does");
    }

    @Test
    void sshsFailureIsExit1AndAMissingSshIsNamed() throws Exception {
        env.put("FAKE_SSH_STATUS", "255");
        MockApiServer.Run r = MockApiServer.virtctl(env, "ssh", "vm/testvm");
        assertEquals(1, r.code());
        assertEquals("error: ssh exited with status 255\n", r.err());

        env.put("PATH", tmp.resolve("empty").toString());
        r = MockApiServer.virtctl(env, "ssh", "vm/testvm");
        assertEquals(1, r.code());
        assertEquals("error: the local ssh client was not found on PATH (" + tmp.resolve("empty") + "): virtctl ssh runs it; "
                + "install it (Debian: apt-get install openssh-client)\n", r.err());
    }

    @Test
    void proxyCommandWordsAreQuotedForTheShellAndPercentIsEscapedForSsh() {
        assertEquals("plain/path-1.2", SshCommand.shellQuote("plain/path-1.2"));
        assertEquals("'it'\\''s here'", SshCommand.shellQuote("it's here"));
        List<String> a = SshCommand.sshArgs("/bin/virtctl", "/k/100%", "ctx 1", new PortForwardTarget(true, "v", null), "ns", 22,
                null, null, null, List.of(), null);
        assertEquals(List.of("-o", "ProxyCommand=/bin/virtctl --kubeconfig /k/100%% --context 'ctx 1' port-forward --stdio=true vm/v/ns 22",
                "vm.v.ns"), a);
        assertTrue(a.get(1).startsWith("ProxyCommand="));
    }
}
