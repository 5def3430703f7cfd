package io.qvirt.virtctl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code port-forward}: KubeVirt's argument syntax and messages, then the relay against a stand-in for virt-api's
 * port-forward WebSocket on the mock API server (an echoing guest port): local TCP connections, one WebSocket each,
 * bytes untouched both ways; {@code --stdio}; refusals.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortForwardTest {
    static final String VMI_PATH = "/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachineinstances/testvm/portforward/";
    static final Pattern FORWARDING = Pattern.compile("forwarding tcp 127\\.0\\.0\\.1:(\\d+) to (\\d+)\n");

    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;
    final List<String> subprotocols = new CopyOnWriteArrayList<>();

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
    }

    @AfterEach
    void down() {
        api.close();
    }

    /** A guest port that echoes every message back, byte for byte. */
    MockResponse echoPort() {
        return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
            @Override
            public void onOpen(WebSocket ws, Response response) {
                subprotocols.add(String.valueOf(ws.request().getHeader("Sec-WebSocket-Protocol")));
            }

            @Override
            public void onMessage(WebSocket ws, byte[] bytes) {
                ws.send(bytes);
            }
        });
    }

    @Test
    void targetsAndPortsParseAsKubeVirtsWithItsMessages() throws Exception {
        assertEquals(new PortForwardTarget(true, "testvm", null), PortForwardTarget.parse("vm/testvm"));
        assertEquals(new PortForwardTarget(false, "testvm.example", "prod"), PortForwardTarget.parse("VirtualMachineInstance/testvm.example/prod"));
        assertEquals(new PortForwardTarget(true, "a", null), PortForwardTarget.parse("vms/a"));
        assertEquals(new PortForwardTarget.Port("tcp", 8080, 8080), PortForwardTarget.parsePort("8080"));
        assertEquals(new PortForwardTarget.Port("tcp", 18080, 80), PortForwardTarget.parsePort("18080:80"));
        assertEquals(new PortForwardTarget.Port("tcp", 18080, 80), PortForwardTarget.parsePort("TCP/18080:80"));
        assertEquals(new PortForwardTarget.Port("tcp", 18080, 80), PortForwardTarget.parsePort("18080:80/tcp"));
        assertEquals(new PortForwardTarget.Port("tcp", 0, 22), PortForwardTarget.parsePort("0:22"));
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("", "target cannot be empty");
        bad.put("testvm", "target must contain type and name separated by '/' (TYPE/NAME[/NAMESPACE], TYPE: vm or vmi): \"testvm\"");
        bad.put("vm/", "name cannot be empty");
        bad.put("vm/a/", "namespace cannot be empty");
        bad.put("vm/a/b/c", "target is not valid with more than two '/': \"vm/a/b/c\"");
        bad.put("pod/a", "unsupported resource type 'pod': vm, vms, virtualmachine, virtualmachines, vmi, vmis, "
                + "virtualmachineinstance, virtualmachineinstances");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            VirtctlException.Usage u = assertThrows(VirtctlException.Usage.class, () -> PortForwardTarget.parse(e.getKey()));
            assertEquals(e.getValue(), u.getMessage(), e.getKey());
        }
        Map<String, String> badPorts = new java.util.LinkedHashMap<>();
        badPorts.put("http", "invalid local port \"http\" in \"http\": from 0 to 65535");
        badPorts.put("8080:0", "invalid remote port \"0\" in \"8080:0\": from 1 to 65535");
        badPorts.put("0", "invalid remote port 0 in \"0\": from 1 to 65535");
        badPorts.put("70000", "invalid local port \"70000\" in \"70000\": from 0 to 65535");
        badPorts.put("1:2:3", "invalid port \"1:2:3\", missing local and/or remote port: [PROTOCOL/]LOCAL[:REMOTE]");
        badPorts.put("udp/53", "port \"udp/53\": udp is not supported by qvirt's port-forward: tcp only");
        badPorts.put("sctp/53", "unknown protocol: sctp (in \"sctp/53\": tcp or udp)");
        badPorts.put("a/b/c", "invalid port \"a/b/c\": [PROTOCOL/]LOCAL[:REMOTE]");
        for (Map.Entry<String, String> e : badPorts.entrySet()) {
            VirtctlException.Usage u = assertThrows(VirtctlException.Usage.class, () -> PortForwardTarget.parsePort(e.getKey()));
            assertEquals(e.getValue(), u.getMessage(), e.getKey());
        }
        MockApiServer.Run r = MockApiServer.virtctl(env, "port-forward", "--stdio", "vm/testvm", "22", "80");
        assertEquals(2, r.code());
        assertEquals("error: only one port supported when forwarding to stdout\n", r.err());
        assertEquals(List.of(), api.requests(), "usage errors send nothing");
    }

    /** The command running in a thread of the test, ended by interrupting it. */
    record Running(Thread thread, CompletableFuture<Integer> code, StringWriter err) {
        int port(int remote) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < end) {
                Matcher m = FORWARDING.matcher(text());
                while (m.find()) {
                    if (Integer.parseInt(m.group(2)) == remote) {
                        return Integer.parseInt(m.group(1));
                    }
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no forwarding line for " + remote + ": " + text());
        }

        String text() {
            synchronized (err) {
                return err.toString();
            }
        }

        int stop() throws Exception {
            thread.interrupt();
            return code.get(10, TimeUnit.SECONDS);
        }
    }

    Running listen(String... args) {
        StringWriter err = new StringWriter();
        PrintWriter errWriter = new PrintWriter(err, true);
        Io io = new Io(InputStream.nullInputStream(), new ByteArrayOutputStream(), new PrintWriter(new StringWriter()), errWriter, env, false);
        CompletableFuture<Integer> code = new CompletableFuture<>();
        Thread t = new Thread(() -> code.complete(VirtctlCommand.create(io).execute(args)), "test-port-forward");
        t.setDaemon(true);
        t.start();
        return new Running(t, code, err);
    }

    @Test
    void eachLocalConnectionGetsItsOwnWebSocketAndBytesPassUntouched() throws Exception {
        api.virtApi = r -> echoPort();
        Running pf = listen("port-forward", "vmi/testvm/ns1", "0:8080", "tcp/0:22");
        int local8080 = pf.port(8080);
        int local22 = pf.port(22);
        byte[] bulk = new byte[256 * 1024];
        new Random(17).nextBytes(bulk);
        for (int round = 0; round < 2; round++) {
            try (Socket s = new Socket("127.0.0.1", local8080)) {
                s.setSoTimeout(10_000);
                CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                    try {
                        return s.getInputStream().readNBytes(bulk.length);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                s.getOutputStream().write(bulk);
                s.getOutputStream().flush();
                assertArrayEquals(bulk, back.get(15, TimeUnit.SECONDS), "256 KiB there and back, round " + round);
            }
        }
        try (Socket s = new Socket("127.0.0.1", local22)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("SSH-2.0-test\r\n", new String(s.getInputStream().readNBytes(14), StandardCharsets.US_ASCII));
        }
        assertEquals(0, pf.stop(), pf.text());
        List<MockApiServer.Request> requests = api.requests();
        assertEquals(List.of(VMI_PATH + "8080/tcp", VMI_PATH + "8080/tcp", VMI_PATH + "22/tcp"),
                requests.stream().map(MockApiServer.Request::path).toList());
        assertTrue(requests.stream().allMatch(q -> q.method().equals("GET")));
        assertEquals(List.of("plain.kubevirt.io", "plain.kubevirt.io", "plain.kubevirt.io"), subprotocols);
    }

    @Test
    void aRefusedConnectionIsClosedAndSaidWhyWhileTheListenerStays() throws Exception {
        api.virtApi = r -> MockApiServer.status(400, "BadRequest",
                "port 22/tcp of VMI ns1/testvm is not forwarded: qvirt's masquerade reaches only listed ports (listed: 80/tcp)");
        Running pf = listen("port-forward", "vm/testvm", "0:22", "-n", "ns1");
        int local = pf.port(22);
        for (int i = 0; i < 2; i++) {
            try (Socket s = new Socket("127.0.0.1", local)) {
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "closed without a byte");
            }
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String line = "can't access vm/testvm/ns1: Can't connect to websocket (400): port 22/tcp of VMI ns1/testvm is not "
                + "forwarded: qvirt's masquerade reaches only listed ports (listed: 80/tcp)\n";
        while (pf.text().split(Pattern.quote(line), -1).length < 3 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertEquals(3, pf.text().split(Pattern.quote(line), -1).length, pf.text());
        assertEquals(0, pf.stop());
        assertEquals(List.of("/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/testvm/portforward/22/tcp",
                        "/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/testvm/portforward/22/tcp"),
                api.requests().stream().map(MockApiServer.Request::path).toList());
    }

    @Test
    void aLocalPortInUseIsAClearFailure() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            MockApiServer.Run r = MockApiServer.virtctl(env, "port-forward", "vm/testvm", taken.getLocalPort() + ":80");
            assertEquals(1, r.code());
            assertTrue(r.err().startsWith("error: unable to listen on 127.0.0.1:" + taken.getLocalPort() + ": "), r.err());
        }
        MockApiServer.Run r = MockApiServer.virtctl(env, "port-forward", "--address", "no-such-host.invalid", "vm/testvm", "80");
        assertEquals(2, r.code());
        assertEquals("error: --address \"no-such-host.invalid\": not an IP address or a host name that resolves\n", r.err());
    }

    @Test
    void stdioRelaysOneConnectionUntilStdinEnds() throws Exception {
        api.virtApi = r -> echoPort();
        PipedOutputStream stdin = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(stdin, 1 << 16);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        Io io = new Io(in, raw, new PrintWriter(new StringWriter()), new PrintWriter(err, true), env, false);
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> VirtctlCommand.create(io)
                .execute("port-forward", "--stdio=true", "vmi/testvm/ns1", "22"));
        byte[] banner = "SSH-2.0-OpenSSH_9.2p1 Debian\r\n".getBytes(StandardCharsets.US_ASCII);
        stdin.write(banner);
        stdin.flush();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            synchronized (raw) {
                if (raw.size() >= banner.length) {
                    break;
                }
            }
            Thread.sleep(20);
        }
        synchronized (raw) {
            assertArrayEquals(banner, raw.toByteArray(), "stdin -> WebSocket -> echo -> stdout");
        }
        stdin.close();
        assertEquals(0, code.get(15, TimeUnit.SECONDS), err.toString());
        assertEquals("", err.toString(), "nothing on stderr: stdout is ssh's");
        assertEquals(List.of(VMI_PATH + "22/tcp"), api.requests().stream().map(MockApiServer.Request::path).toList());
    }

    @Test
    void stdioRefusalIsOneLineAndExit1() throws Exception {
        api.virtApi = r -> MockApiServer.status(403, "Forbidden", "virtualmachineinstances.subresources.kubevirt.io \"testvm\" is "
                + "forbidden: User \"bob\" cannot get resource \"virtualmachineinstances/portforward\"");
        MockApiServer.Run r = MockApiServer.virtctl(env, "port-forward", "--stdio", "vmi/testvm/ns1", "22");
        assertEquals(1, r.code());
        assertEquals("error: Can't connect to websocket (403): virtualmachineinstances.subresources.kubevirt.io \"testvm\" is "
                + "forbidden: User \"bob\" cannot get resource \"virtualmachineinstances/portforward\"\n", r.err());
    }
}
