package io.qvirt.testdata;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A QEMU started by a test with a plain {@link ProcessBuilder}: serial console on stdout (watched by a
 * {@link ConsoleWatcher}), stderr to a file. {@link #close()} kills and reaps it, so a test that uses
 * try-with-resources leaves no QEMU behind whatever happens.
 */
public final class QemuProcess implements AutoCloseable {
    private final Process process;
    private final ConsoleWatcher console;
    private final Path stderr;

    private QemuProcess(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        this.console = new ConsoleWatcher(process.getInputStream(), "qemu-" + process.pid());
    }

    /**
     * Starts {@code qemu-system-x86_64} with {@code args} (the binary is prepended; the serial console
     * must go to stdio, e.g. {@code -serial stdio}).
     */
    public static QemuProcess start(List<String> args, Path stderrFile) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Qemu.binary().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectError(stderrFile.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        return new QemuProcess(pb.start(), stderrFile);
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public ConsoleWatcher console() {
        return console;
    }

    /** Writes to QEMU's stdin, which is the guest's serial input when the console is on stdio. */
    public void type(String text) throws IOException {
        process.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** What QEMU wrote to stderr so far. */
    public String stderr() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(stderr unreadable: " + e.getMessage() + ")";
        }
    }

    /** Waits for QEMU to exit on its own; returns its exit code, or -1 on timeout. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        console.close();
    }
}
