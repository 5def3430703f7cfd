package io.qvirt.virtctl;

import io.fabric8.kubernetes.client.http.WebSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl console VMI}: the serial console through virt-api's WebSocket
 * ({@code GET .../virtualmachineinstances/VMI/console}, subprotocol {@code plain.kubevirt.io}). Retries until the VMI
 * can be connected to or {@code --timeout} minutes pass. On a terminal stdin goes raw and {@code Ctrl-]} leaves;
 * otherwise stdin and stdout are streamed as they are and stdin's end leaves.
 */
@Command(name = "console", description = "Connect to a console of a virtual machine instance.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Connect to the console on VirtualMachineInstance 'myvmi':", "  virtctl console myvmi",
            "  # Configure one minute timeout (default 5 minutes):", "  virtctl console --timeout=1 myvmi"})
final class ConsoleCommand extends BaseCommand {
    static final int ESCAPE = 29; // Ctrl-] (and Ctrl-5 on many terminals)
    /** How long leaving waits for the server's answer to the close (the typed bytes before it delivered). */
    static final java.time.Duration CLOSE_WAIT = java.time.Duration.ofSeconds(3);

    @Parameters(index = "0", paramLabel = "VMI", description = "the VirtualMachineInstance")
    String name;

    @Option(names = "--timeout", defaultValue = "5", description = "The number of minutes to wait for the virtual machine instance to be ready.")
    int timeoutMinutes;

    @Override
    int doCall() throws Exception {
        if (timeoutMinutes < 0) {
            throw new VirtctlException.Usage("--timeout " + timeoutMinutes + ": must not be negative");
        }
        try (Cluster c = cluster()) {
            CompletableFuture<String> closed = new CompletableFuture<>();
            // The guest's first bytes are held until the terminal is raw, so they are shown as the guest sent them
            // (held, not waited for: the listener runs on the thread that completes the connection).
            Gate out = new Gate(io().rawOut());
            WebSocket.Listener listener = new WebSocket.Listener() {
                @Override
                public void onMessage(WebSocket ws, ByteBuffer bytes) {
                    out.write(bytes);
                    ws.request();
                }

                @Override
                public void onMessage(WebSocket ws, String text) {
                    out.write(ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                    ws.request();
                }

                @Override
                public void onClose(WebSocket ws, int code, String reason) {
                    closed.complete(code == 1000 ? null : "code " + code + (reason == null || reason.isEmpty() ? "" : ": " + reason));
                }

                @Override
                public void onError(WebSocket ws, Throwable error) {
                    closed.complete(Cluster.oneLine(error));
                }
            };
            WebSocket ws = connect(c, listener);
            err().println("Successfully connected to " + name + " console. Press Ctrl+] or Ctrl+5 to exit console.");
            err().flush();
            CompletableFuture<Void> left = new CompletableFuture<>();
            Terminal raw = io().terminal() ? Terminal.raw() : null;
            out.open();
            try {
                Thread pump = new Thread(() -> pumpStdin(io().in(), ws, left), "virtctl-console-stdin");
                pump.setDaemon(true);
                pump.start();
                CompletableFuture.anyOf(closed, left).join();
            } finally {
                if (raw != null) {
                    raw.restore();
                }
            }
            if (left.isDone()) {
                // send() only queues: what was typed just before Ctrl-] (or stdin's end) goes out before the close
                // frame, and the process must not exit before the server has it (its close answer says so)
                ws.sendClose(1000, "");
                try {
                    closed.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // no answer: nothing more to wait for
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return ExitCodes.OK;
            }
            String why = closed.getNow(null);
            if (why == null) {
                return ExitCodes.OK;
            }
            throw new VirtctlException.Failure("You were disconnected from the console (" + why + "). This could be caused by: "
                    + "the VM was powered off, another user connected to its console, network issues");
        }
    }

    /** Connects, retrying refusals (the VMI not there or not running yet) until the timeout. */
    private WebSocket connect(Cluster c, WebSocket.Listener listener) throws VirtctlException {
        String path = c.subresourcePath(Resources.VMIS, name, "console");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(timeoutMinutes);
        String waitingFor = null;
        while (true) {
            VirtctlException failure;
            try {
                return c.websocket(path, listener).get(Cluster.CONNECT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                failure = c.websocketFailure(e.getCause() == null ? e : e.getCause(), Resources.VMI, name);
            } catch (TimeoutException e) {
                failure = new VirtctlException.Unreachable("Unable to connect to the server " + c.server()
                        + ": the console did not open within " + (Cluster.CONNECT_TIMEOUT.toSeconds() + 5) + " s", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VirtctlException.Failure("interrupted", e);
            }
            boolean retry = failure instanceof VirtctlException.Api api
                    && (api.code == 404 || api.code == 409 || api.code == 400 || api.code == 503 || api.code == 500);
            if (!retry || System.nanoTime() > deadline) {
                throw failure instanceof VirtctlException.Api api ? api.prefixed("Can't connect to websocket (" + api.code + "): ") : failure;
            }
            if (!failure.getMessage().equals(waitingFor)) {
                waitingFor = failure.getMessage();
                err().println("Waiting for VMI " + name + " (" + waitingFor + ")");
                err().flush();
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VirtctlException.Failure("interrupted", e);
            }
        }
    }

    /** stdout for the guest's bytes: held until {@link #open}, then written through. */
    static final class Gate {
        private final OutputStream out;
        private java.io.ByteArrayOutputStream held = new java.io.ByteArrayOutputStream();

        Gate(OutputStream out) {
            this.out = out;
        }

        synchronized void write(ByteBuffer bytes) {
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            if (held != null) {
                held.write(b, 0, b.length);
                return;
            }
            put(b);
        }

        synchronized void open() {
            byte[] b = held.toByteArray();
            held = null;
            if (b.length > 0) {
                put(b);
            }
        }

        private void put(byte[] b) {
            try {
                out.write(b);
                out.flush();
            } catch (IOException e) {
                // stdout gone: nothing left to show the guest's output to
            }
        }
    }

    /** stdin to the console until its end or {@code Ctrl-]}. */
    private static void pumpStdin(InputStream in, WebSocket ws, CompletableFuture<Void> left) {
        byte[] buf = new byte[1024];
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                int esc = -1;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == ESCAPE) {
                        esc = i;
                        break;
                    }
                }
                int send = esc < 0 ? n : esc;
                if (send > 0) {
                    ws.send(ByteBuffer.wrap(buf, 0, send).asReadOnlyBuffer().duplicate());
                }
                if (esc >= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            // stdin closed under us: leave
        }
        left.complete(null);
    }

    /** stdin's terminal in raw mode (no echo, no line editing, no output processing) through stty, restored afterwards. */
    static final class Terminal {
        private final String saved;

        private Terminal(String saved) {
            this.saved = saved;
        }

        static Terminal raw() {
            try {
                String saved = stty("-g").strip();
                stty("raw", "-echo");
                return new Terminal(saved);
            } catch (IOException e) {
                return null;
            }
        }

        void restore() {
            try {
                stty(saved);
            } catch (IOException e) {
                // the terminal is gone
            }
        }

        private static String stty(String... args) throws IOException {
            String[] cmd = new String[args.length + 1];
            cmd[0] = "stty";
            System.arraycopy(args, 0, cmd, 1, args.length);
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                String outText = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IOException("stty failed");
                }
                return outText;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }
}
