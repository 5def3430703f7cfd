package io.qvirt.launcher.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Raw mode for an interactive console, restored on close; a no-op when stdin is not a terminal. */
public final class Terminal implements AutoCloseable {
    private final String saved;

    private Terminal(String saved) {
        this.saved = saved;
    }

    /** True if both stdin and stdout are terminals. */
    public static boolean interactive() {
        return System.console() != null && new File("/dev/tty").exists() && isTty();
    }

    private static boolean isTty() {
        try {
            return stty("-g") != null;
        } catch (IOException e) {
            return false;
        }
    }

    public static Terminal raw() {
        try {
            String s = stty("-g");
            stty("raw", "-echo");
            return new Terminal(s);
        } catch (IOException e) {
            return new Terminal(null);
        }
    }

    private static String stty(String... args) throws IOException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "stty";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectInput(new File("/dev/tty")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            return p.waitFor() == 0 ? out : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Override
    public void close() {
        if (saved != null) {
            try {
                stty(saved);
            } catch (IOException ignored) {
                // Nothing better to do than leave the terminal as it is.
            }
        }
    }
}
