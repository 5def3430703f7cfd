package io.qvirt.sandbox;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** One in-process component's log file: timestamped lines, appended. */
public final class ComponentLog implements AutoCloseable {
    private final String component;
    private final PrintStream out;

    public ComponentLog(Path file, String component) {
        this.component = component;
        try {
            Files.createDirectories(file.getParent());
            out = new PrintStream(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                    true, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A log to stderr (tests). */
    public static ComponentLog stderr(String component) {
        return new ComponentLog(component, System.err);
    }

    private ComponentLog(String component, PrintStream out) {
        this.component = component;
        this.out = out;
    }

    public void info(String msg) {
        line("INFO", msg);
    }

    public void warn(String msg) {
        line("WARN", msg);
    }

    public void warn(String msg, Throwable t) {
        synchronized (out) {
            line("WARN", msg + ": " + t);
            t.printStackTrace(out);
        }
    }

    private void line(String level, String msg) {
        synchronized (out) {
            out.println(Instant.now() + " " + level + " " + component + ": " + msg);
        }
    }

    @Override
    public void close() {
        if (out != System.err) {
            out.close();
        }
    }
}
