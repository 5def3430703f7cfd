package io.qvirt.virtctl;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.Map;

/**
 * What a virtctl run reads and writes: stdin, stdout as text ({@code out}) and as bytes ({@code rawOut}, the
 * console's guest output), stderr, the environment ({@code KUBECONFIG}, {@code HOME}) and whether stdin is a
 * terminal (the console then switches it to raw mode and {@code Ctrl-]} leaves).
 */
public record Io(InputStream in, OutputStream rawOut, PrintWriter out, PrintWriter err, Map<String, String> env,
        boolean terminal) {

    /** Text writers only (tests): console bytes are decoded as UTF-8 into {@code out}; no stdin, no terminal. */
    public static Io of(PrintWriter out, PrintWriter err, Map<String, String> env) {
        return new Io(InputStream.nullInputStream(), new WriterSink(out), out, err, env, false);
    }

    String env(String name) {
        return env.get(name);
    }
}
